#!/usr/bin/env python3
"""Writes a generated .iamx project with N statements (default 10,000) to stdout."""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
services = ["s3", "dynamodb", "sqs", "sns", "logs", "kms", "lambda", "ec2"]
print('account "123456789012"')
print('region "eu-west-1"')
print('param env = "dev"')
per_policy = 20
for p in range(n // per_policy):
    print(f"policy Generated{p} {{")
    for s in range(per_policy):
        i = p * per_policy + s
        svc = services[i % len(services)]
        print(f"  @sid(S{i})")
        print(f'  allow {svc}:Get*, {svc}:{{List{i % 7}, Describe{i % 5}}}')
        print(f'    on "arn:aws:{svc}:{{region}}:{{account}}:thing/{{env}}-{i}/*"')
        print(f'    when aws:PrincipalTag/team == "t{i % 13}" and aws:SourceIp in ["10.{i % 250}.0.0/16"]')
    print("}")
