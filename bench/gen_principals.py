#!/usr/bin/env python3
"""Writes a project with N principals (default 1,000) to stdout: a guarded and an open
boundary, bounded users and roles (half of them delegating), some with managed policies."""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
print('account "123456789012"')
print('''
boundary Guarded {
  allow s3:*, dynamodb:*, logs:*, sqs:* on *
  guard {
    create users, roles under "/teams/"
    pass roles under "/teams/" to lambda.amazonaws.com
    manage policies under "/teams/"
  }
}

boundary Open {
  allow s3:*, iam:CreateUser, iam:AttachUserPolicy, iam:PassRole, ec2:RunInstances on *
}

policy TeamRead {
  path "/teams/"
  allow s3:GetObject, s3:ListBucket on "arn:aws:s3:::team-*"
  allow dynamodb:GetItem, dynamodb:Query on "arn:aws:dynamodb:*:*:table/team-*"
}
''')
for i in range(n):
    kind = "user" if i % 2 == 0 else "role"
    boundary = "Open" if i % 10 == 0 else "Guarded"
    print(f"{kind} p{i} {{")
    print('  path "/teams/"')
    print(f"  boundary {boundary}")
    if kind == "role":
        print("  trust { allow service lambda.amazonaws.com }")
    if boundary == "Guarded" and i % 4 < 2:
        print("  delegate")
    if i % 3 == 0:
        print("  attach TeamRead")
    print(f'  allow s3:PutObject on "arn:aws:s3:::team-{i}/*"')
    print(f'  allow sqs:SendMessage on "arn:aws:sqs:us-east-1:123456789012:q{i}" when aws:SourceAccount == "123456789012"')
    print("}")
