#!/usr/bin/env python3
"""Writes the public escalation catalogues (data/guardrail/escalations.json: Rhino Security
Labs, pathfinding.cloud, IAM Vulnerable) as one account snapshot with a vulnerable and a safe
user for every path, and the `--resources` file that goes with it.

    bench/gen_catalogue.py SNAPSHOT.json RESOURCES.json

For every path with a code, two users with no boundary, `vuln-<n>` and `safe-<n>` (n: the
path's place in the catalogue, its id in the user's `path` tag), allowed the path's actions:

- the vulnerable one on what opens the path: `*` for IAM and STS actions (the account holds an
  administrator user, role and group, and a policy attached to the administrator role), the
  administrator role a service trusts for `iam:PassRole`, resources that run as the
  administrator role for actions that run code;
- the safe one on what leaves it shut, once the account is known: its own user for its
  credentials, another user's, group's or role's policies that it cannot become, a role that
  holds no more than it (`sts:AssumeRole`, `iam:PassRole`), a policy attached only to a role
  it cannot become, a stronger version of no policy of its own, resources that run as a role
  holding no more than it.

Every user also holds a base policy (the weak roles' permissions), so that a weak role holds
nothing it lacks. Users are named by number so that the files stay stable while the catalogue
grows at its end. Standard library only."""
import json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..")
A = "111122223333"
catalogue = json.load(open(os.path.join(root, "data", "guardrail", "escalations.json")))
runners = {r["service"]: set(r["resourceTypes"]) for r in catalogue["runners"]}
services = {}


def service(prefix):
    if prefix not in services:
        path = os.path.join(root, "data", "services", f"{prefix}.json")
        services[prefix] = json.load(open(path)) if os.path.exists(path) else None
    return services[prefix]


def allow(actions, resources):
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def doc(statements):
    return {"Version": "2012-10-17", "Statement": statements}


WEAK = ["logs:CreateLogStream", "logs:PutLogEvents"]
BASE = doc([allow(WEAK + ["sts:GetCallerIdentity"], "*")])
WEAK_DOC = doc([allow(WEAK, "*")])
ADMIN = {"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}


def trust(principal):
    return doc([{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}])


users, groups, roles, policies, resources = [], [], [], [], []


def user(name, inline=(), attached=(), groups_=(), tags=()):
    users.append({"Path": "/", "UserName": name, "Arn": f"arn:aws:iam::{A}:user/{name}",
                  "UserPolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in inline],
                  "GroupList": list(groups_), "AttachedManagedPolicies": list(attached),
                  "Tags": [{"Key": k, "Value": v} for k, v in tags]})


def role(name, trusted, inline=(), attached=()):
    roles.append({"Path": "/", "RoleName": name, "Arn": f"arn:aws:iam::{A}:role/{name}",
                  "AssumeRolePolicyDocument": trust(trusted), "InstanceProfileList": [],
                  "RolePolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in inline],
                  "AttachedManagedPolicies": list(attached), "Tags": []})


def group(name, inline=(), attached=()):
    groups.append({"Path": "/", "GroupName": name, "Arn": f"arn:aws:iam::{A}:group/{name}",
                   "GroupPolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in inline],
                   "AttachedManagedPolicies": list(attached)})


def policy(name, versions, default="v1"):
    policies.append({"PolicyName": name, "Arn": f"arn:aws:iam::{A}:policy/{name}", "Path": "/",
                     "DefaultVersionId": default, "IsAttachable": True,
                     "PolicyVersionList": [{"Document": d, "VersionId": v, "IsDefaultVersion": v == default}
                                           for v, d in versions]})


def attach(name):
    return {"PolicyName": name, "PolicyArn": f"arn:aws:iam::{A}:policy/{name}"}


# The account every pair lives in.
ACCOUNT_ROOT = {"AWS": f"arn:aws:iam::{A}:root"}
user("cat-admin", attached=[ADMIN])
user("cat-weak-user", inline=[("weak", WEAK_DOC)])
role("cat-admin-role", ACCOUNT_ROOT, attached=[ADMIN])
role("cat-weak-role", ACCOUNT_ROOT, inline=[("weak", WEAK_DOC)])
role("cat-other-role", {"Service": "ec2.amazonaws.com"}, inline=[("weak", WEAK_DOC)],
     attached=[attach("cat-other-policy")])
group("cat-admin-group", attached=[ADMIN])
group("cat-weak-group", inline=[("weak", WEAK_DOC)])
group("cat-lonely-group", inline=[("weak", WEAK_DOC)])
group("cat-members", inline=[("weak", WEAK_DOC)])
policy("cat-admin-policy", [("v1", doc([allow("*", "*")]))])
roles[0]["AttachedManagedPolicies"].append(attach("cat-admin-policy"))
policy("cat-other-policy", [("v1", WEAK_DOC)])
policy("cat-unattached", [("v1", WEAK_DOC)])
role("cat-admin-run", {"Service": "lambda.amazonaws.com"}, attached=[ADMIN])
role("cat-weak-run", {"Service": "lambda.amazonaws.com"}, inline=[("weak", WEAK_DOC)])
passed_to = set()


def arn_for(action, name):
    """An ARN of the resource type `action` takes (a runner's in the account first), or `*`;
    and ARN patterns of the other resource types it always takes (`ssm:SendCommand` on an
    instance takes a document too)."""
    prefix, _, short = action.partition(":")
    s = service(prefix)
    act = s and next((a for a in s["actions"] if a["name"] == short), None)
    if not act or not act["resourceTypes"]:
        return "*", []
    arns = {r["name"]: r["arn"] for r in s["resourceTypes"]}
    kinds = [t["name"] for t in act["resourceTypes"] if t["name"] in arns]
    runs = [k for k in kinds if k in runners.get(prefix, ())]
    kind = next((k for k in runs if "${Account}" in arns[k]), next(iter(runs), kinds[0]))
    also = [instance(arns[t["name"]], "*") for t in act["resourceTypes"]
            if t["required"] and t["name"] in arns and t["name"] != kind]
    return instance(arns[kind], name), also


def instance(template, name):
    arn = template.replace("${Partition}", "aws").replace("${Region}", "us-east-1").replace("${Account}", A)
    while "${" in arn:
        start = arn.index("${")
        end = arn.index("}", start)
        arn = arn[:start] + name + arn[end + 1:]
    return arn


# What the safe user may do each IAM or STS action on: its own credentials, another
# principal's policies it cannot become, a role or group that holds no more than it, a policy
# attached only to a role it cannot become, its own policy with no stronger version.
SAFE = {
    **dict.fromkeys(["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:CreateLoginProfile",
                     "iam:UpdateLoginProfile"], "user/${aws:username}"),
    **dict.fromkeys(["iam:AttachUserPolicy", "iam:PutUserPolicy"], "user/cat-weak-user"),
    **dict.fromkeys(["iam:AttachGroupPolicy", "iam:PutGroupPolicy"], "group/cat-lonely-group"),
    "iam:AddUserToGroup": "group/cat-weak-group",
    **dict.fromkeys(["iam:AttachRolePolicy", "iam:PutRolePolicy"], "role/cat-other-role"),
    **dict.fromkeys(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"], "role/cat-weak-role"),
    "iam:CreatePolicyVersion": "policy/cat-other-policy",
    "iam:SetDefaultPolicyVersion": "policy/cat-safe-{n}",
}


def safe_target(action, n):
    """What the safe user may do `action` on; `None` for a service's action."""
    target = SAFE.get(action)
    return target and f"arn:aws:iam::{A}:" + target.replace("{n}", str(n))


pairs = 0
for n, path in enumerate(catalogue["paths"]):
    code = path["code"]
    if code is None or not path["actions"]:
        continue
    pairs += 1
    actions = path["actions"]
    tags = [("path", path["id"])]
    vuln, safe = [], []
    pass_to = path.get("passTo")
    for action in actions:
        if action == "iam:PassRole":
            service_name = pass_to.split(".")[0]
            passed_to.add(pass_to)
            vuln.append(allow(action, f"arn:aws:iam::{A}:role/cat-admin-{service_name}"))
            safe.append(allow(action, f"arn:aws:iam::{A}:role/cat-weak-{service_name}"))
            continue
        target = safe_target(action, n)
        if target is not None:
            vuln.append(allow(action, f"arn:aws:iam::{A}:policy/cat-vuln-{n}"
                              if action == "iam:SetDefaultPolicyVersion" else "*"))
            safe.append(allow(action, target))
            continue
        # A service's action: on resources that run as the administrator role, or as a weak one.
        (v, also), (s, _) = arn_for(action, f"cat-vuln-{n}"), arn_for(action, f"cat-safe-{n}")
        vuln.append(allow(action, [v] + also if also else v))
        safe.append(allow(action, [s] + also if also else s))
        if s != "*":
            run_as = f"cat-weak-{pass_to.split('.')[0]}" if pass_to else "cat-weak-run"
            resources.append({"arn": v, "role": f"arn:aws:iam::{A}:role/cat-admin-run"})
            resources.append({"arn": s, "role": f"arn:aws:iam::{A}:role/{run_as}"})
    attached_v, attached_s = [], []
    if "iam:SetDefaultPolicyVersion" in actions:
        # Its own policy, with a stronger version than the default, or a weaker one.
        policy(f"cat-vuln-{n}", [("v1", WEAK_DOC), ("v2", doc([allow("*", "*")]))])
        policy(f"cat-safe-{n}", [("v1", WEAK_DOC), ("v2", doc([allow("logs:CreateLogStream", "*")]))])
        attached_v, attached_s = [attach(f"cat-vuln-{n}")], [attach(f"cat-safe-{n}")]
    if "iam:CreatePolicyVersion" in actions:
        # A customer managed policy of its own: a new version of it is anything.
        policy(f"cat-own-vuln-{n}", [("v1", WEAK_DOC)])
        policy(f"cat-own-safe-{n}", [("v1", WEAK_DOC)])
        attached_v.append(attach(f"cat-own-vuln-{n}"))
        attached_s.append(attach(f"cat-own-safe-{n}"))
    groups_v = ["cat-members"] if any(a in actions for a in ("iam:AttachGroupPolicy", "iam:PutGroupPolicy")) else []
    if set(actions) <= {"iam:AttachRolePolicy", "iam:PutRolePolicy"}:
        # A role's own policies: the pair are roles (a user cannot become a role this way).
        for name, d in ((f"vuln-{n}", vuln), (f"safe-{n}", safe)):
            role(name, {"Service": "ec2.amazonaws.com"}, inline=[("base", BASE), ("path", doc(d))])
            roles[-1]["Tags"] = [{"Key": k, "Value": v} for k, v in tags]
        continue
    user(f"vuln-{n}", inline=[("base", BASE), ("path", doc(vuln))], attached=attached_v, groups_=groups_v, tags=tags)
    user(f"safe-{n}", inline=[("base", BASE), ("path", doc(safe))], attached=attached_s, groups_=groups_v, tags=tags)

for service_principal in sorted(passed_to):
    name = service_principal.split(".")[0]
    role(f"cat-admin-{name}", {"Service": service_principal}, attached=[ADMIN])
    role(f"cat-weak-{name}", {"Service": service_principal}, inline=[("weak", WEAK_DOC)])

snapshot = {"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": policies}
seen, unique = set(), []
for r in resources:
    if r["arn"] not in seen:
        seen.add(r["arn"])
        unique.append(r)
with open(sys.argv[1], "w") as f:
    json.dump(snapshot, f, indent=1)
    f.write("\n")
with open(sys.argv[2], "w") as f:
    json.dump(unique, f, indent=1)
    f.write("\n")
print(f"{pairs} pairs, {len(users)} users, {len(roles)} roles, {len(unique)} resources", file=sys.stderr)
