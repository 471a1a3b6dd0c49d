import json, random, sys
random.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 14)
N = int(sys.argv[1])
A, B = "111122223333", "444455556666"
principals = [
  f"arn:aws:iam::{A}:user/alice",
  f"arn:aws:sts::{A}:assumed-role/App/sess",
  f"arn:aws:iam::{B}:user/bob",
  f"arn:aws:sts::{B}:assumed-role/Partner/sess",
]
requests = [
  ("sqs:SendMessage", "arn:aws:sqs:us-east-1:{acct}:orders"),
  ("sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:{acct}:orders"),
  ("kms:Decrypt", "arn:aws:kms:us-east-1:{acct}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
  ("sts:AssumeRole", "arn:aws:iam::{acct}:role/Target"),
  ("sts:TagSession", "arn:aws:iam::{acct}:role/Target"),
  ("sts:SetSourceIdentity", "arn:aws:iam::{acct}:role/Target"),
  ("iam:GetPolicyVersion", "arn:aws:iam::aws:policy/AdministratorAccess"),
  ("iam:GetPolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
  ("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:{acct}:secret:db-AbCdEf"),
]
conds = [
  lambda: {"StringEquals": {"aws:PrincipalTag/team": random.choice(["a", "b"])}},
  lambda: {"StringEqualsIfExists": {"aws:PrincipalTag/team": "a"}},
  lambda: {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}},
  lambda: {"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["team"]}},
  lambda: {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost"]}},
  lambda: {"ForAllValues:StringEqualsIfExists": {"aws:TagKeys": ["team"]}},
  lambda: {"StringLike": {"aws:PrincipalTag/team": "a*"}},
  lambda: {"StringNotEquals": {"aws:PrincipalTag/team": "b"}},
  lambda: {"Bool": {"aws:SecureTransport": random.choice(["true", "false"])}},
  lambda: {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}},
  lambda: {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
  lambda: {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
  lambda: {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
  lambda: {"Null": {"aws:PrincipalTag/team": random.choice(["true", "false"])}},
  lambda: {"StringEquals": {"aws:PrincipalAccount": random.choice([A, B])}},
]
def ctx():
  c = {}
  if random.random() < .5: c["aws:PrincipalTag/team"] = random.choice(["a", "b", "ab"])
  if random.random() < .4: c["aws:TagKeys"] = random.choice([[], ["team"], ["cost"], ["team", "cost"], ["x"]])
  if random.random() < .5: c["aws:SecureTransport"] = random.choice(["true", "false"])
  if random.random() < .3: c["aws:MultiFactorAuthPresent"] = random.choice(["true", "false"])
  if random.random() < .3: c["aws:MultiFactorAuthAge"] = random.choice(["10", "7200"])
  if random.random() < .5: c["aws:SourceIp"] = random.choice(["10.1.2.3", "192.168.0.1"])
  return c
def stmt(action, resource, principal=None, effect=None):
  s = {"Effect": effect or random.choice(["Allow"] * 4 + ["Deny"])}
  if principal is not None: s["Principal"] = principal
  svc = action.split(":")[0]
  s["Action"] = random.choice([action, f"{svc}:*", "*", [action, "s3:GetObject"], f"{svc}:Get*"])
  if principal is None or random.random() < .7:
    s["Resource"] = random.choice(["*", resource, resource.rsplit(":", 1)[0] + ":*"])
  if random.random() < .45: s["Condition"] = random.choice(conds)()
  elif action == "sts:AssumeRole" and random.random() < .4: s["Condition"] = {"StringEquals": {"sts:ExternalId": random.choice(["x1", "x2"])}}
  return s
def doc(stmts): return {"Version": "2012-10-17", "Statement": stmts}
for i in range(N):
  p = random.choice(principals)
  action, rtemplate = random.choice(requests)
  acct = random.choice([A, A, B])
  resource = rtemplate.format(acct=acct)
  pacct = p.split(":")[4]
  line = {"id": i}
  line["identity"] = [doc([stmt(action, resource) for _ in range(random.randint(1, 2))])] if random.random() < .85 else []
  if random.random() < .2: line["boundary"] = doc([stmt(action, resource, effect="Allow")])
  if random.random() < .2: line["scps"] = [doc([{"Effect": "Allow", "Action": "*", "Resource": "*"}, stmt(action, resource)])]
  if random.random() < .6 and "policy/" not in resource:
    who = random.choice([{"AWS": pacct}, {"AWS": f"arn:aws:iam::{pacct}:root"}, {"AWS": p}, "*", {"AWS": "999999999999"},
                         {"AWS": f"arn:aws:iam::{pacct}:role/App"}])
    line["resource_policy"] = doc([stmt(action, resource, principal=who) for _ in range(random.randint(1, 2))])
  c = ctx()
  if action == "sts:AssumeRole" and random.random() < .5: c["sts:ExternalId"] = random.choice(["x1", "x2"])
  line["request"] = {"principal": p, "action": action, "resource": resource, "context": c}
  print(json.dumps(line))
