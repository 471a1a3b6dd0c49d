#!/usr/bin/env python3
"""Writes a generated .iamx project with N statements (default 10,000) to stdout.

Statements use real actions with resources that fit them, so the whole pipeline runs,
AWS-reference checks included."""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
shapes = [
    ("s3:GetObject, s3:GetObjectVersion", "arn:aws:s3:::bucket-{i}/*"),
    ("s3:ListBucket", "arn:aws:s3:::bucket-{i}"),
    ("dynamodb:{GetItem, Query, PutItem}", "arn:aws:dynamodb:{{region}}:{{account}}:table/t{i}"),
    ("sqs:SendMessage, sqs:ReceiveMessage", "arn:aws:sqs:{{region}}:{{account}}:q{i}"),
    ("logs:PutLogEvents", "arn:aws:logs:{{region}}:{{account}}:log-group:/app/{i}:*"),
    ("kms:Decrypt, kms:GenerateDataKey*", "arn:aws:kms:{{region}}:{{account}}:key/k{i}"),
    ("lambda:InvokeFunction", "arn:aws:lambda:{{region}}:{{account}}:function:f{i}"),
]
print('account "123456789012"')
print('region "eu-west-1"')
print('param env = "dev"')
per_policy = 20
for p in range(n // per_policy):
    print(f"policy Generated{p} {{")
    for s in range(per_policy):
        i = p * per_policy + s
        actions, resource = shapes[i % len(shapes)]
        print(f"  @sid(S{i})")
        print(f"  allow {actions}")
        print(f'    on "{resource.format(i=i)}"')
        print(f'    when aws:PrincipalTag/team == "t{i % 13}" and aws:SourceIp in ["10.{i % 250}.0.0/16"]')
    print("}")
