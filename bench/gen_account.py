#!/usr/bin/env python3
"""Writes an account snapshot (the output of `aws iam get-account-authorization-details`) with
N users and roles (default 1,000) to stdout: a guarded boundary (the one of
tests/fixtures/account/safe_delegated_admin.json) and an open one, bounded users and roles
under /developers/ (some delegating admins), groups with members, customer managed policies
attached to many, roles trusting services and other roles, an administrator role, and a few
unbounded users with classic escalations (sts:AssumeRole on the administrator,
iam:CreatePolicyVersion, iam:PassRole with lambda:CreateFunction); and, per 200 principals, the
escalation catalogue as pairs of a vulnerable and a safe principal with no boundary (assuming an
administrator or a weaker role, passing a role to Lambda, a chain of roles, a trust policy that
names the user, policy versions, its own inline policy, another user's access keys), named
`vuln-…` and `safe-…`. Every tenth document is URL-encoded, as the IAM API returns them."""
import json, os, sys, urllib.parse

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
A = "123456789012"
here = os.path.dirname(os.path.abspath(__file__))
fixture = json.load(open(os.path.join(here, "..", "tests", "fixtures", "account", "safe_delegated_admin.json")))
guarded = fixture["Policies"][0]["PolicyVersionList"][0]["Document"]
delegation = fixture["UserDetailList"][0]["UserPolicyList"][1]["PolicyDocument"]
GB = f"arn:aws:iam::{A}:policy/CompanyXYZPermissionsBoundary"
OB = f"arn:aws:iam::{A}:policy/Open"
count = 0

def doc(statements):
    global count
    count += 1
    d = {"Version": "2012-10-17", "Statement": statements}
    if count % 10 == 0:
        return urllib.parse.quote(json.dumps(d, separators=(",", ":")), safe="")
    return d

def allow(actions, resource="*"):
    return {"Effect": "Allow", "Action": actions, "Resource": resource}

def policy(name, d, path="/"):
    return {"PolicyName": name, "PolicyId": "ANPA" + name.upper()[:16].ljust(16, "X"), "Arn": f"arn:aws:iam::{A}:policy{path}{name}",
            "Path": path, "DefaultVersionId": "v1", "AttachmentCount": 1, "PermissionsBoundaryUsageCount": 0, "IsAttachable": True,
            "PolicyVersionList": [{"Document": d, "VersionId": "v1", "IsDefaultVersion": True}]}

policies = [policy("CompanyXYZPermissionsBoundary", guarded),
            policy("Open", doc([allow(["s3:*", "iam:CreateUser", "iam:AttachUserPolicy", "iam:PassRole", "lambda:*"])]))]
teams = max(1, n // 50)
for t in range(teams):
    policies.append(policy(f"team-{t}-data", doc([allow(["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::team-{t}/*")]), "/developers/"))
groups = [{"Path": "/staff/", "GroupName": f"team-{t}", "GroupId": f"AGPATEAM{t:012d}", "Arn": f"arn:aws:iam::{A}:group/staff/team-{t}",
           "GroupPolicyList": [{"PolicyName": "read", "PolicyDocument": doc([allow(["s3:ListBucket"], f"arn:aws:s3:::team-{t}")])}],
           "AttachedManagedPolicies": [{"PolicyName": f"team-{t}-data", "PolicyArn": f"arn:aws:iam::{A}:policy/developers/team-{t}-data"}]}
          for t in range(teams)]
users, roles = [], []
roles.append({"Path": "/", "RoleName": "Admin", "RoleId": "AROAADMIN", "Arn": f"arn:aws:iam::{A}:role/Admin",
              "AssumeRolePolicyDocument": doc([{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:AssumeRole"}]),
              "InstanceProfileList": [], "RolePolicyList": [],
              "AttachedManagedPolicies": [{"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}], "Tags": []})
escalations = [
    [allow("sts:AssumeRole", f"arn:aws:iam::{A}:role/Admin")],
    [allow(["iam:CreatePolicyVersion", "iam:ListPolicies"])],
    [allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"])],
]
for i in range(n):
    t = i % teams
    bounded = i % 20 != 0
    boundary = OB if i % 10 == 5 else GB
    tags = [{"Key": "team", "Value": f"team-{t}"}]
    # Principals with the open boundary live under a path of their own: under /developers/,
    # they would be principals within the guarded boundary's reach that do not carry it.
    path = "/developers/" if boundary == GB else "/legacy/"
    attached = [{"PolicyName": f"team-{t}-data", "PolicyArn": f"arn:aws:iam::{A}:policy/developers/team-{t}-data"}] if i % 3 == 0 else []
    if i % 2 == 0:
        inline = [{"PolicyName": "own", "PolicyDocument": doc([allow("s3:PutObject", f"arn:aws:s3:::team-{t}/u{i}/*")])}]
        if bounded and i % 8 == 2:
            inline.append({"PolicyName": "delegation", "PolicyDocument": delegation})
        if not bounded:
            inline = [{"PolicyName": "ops", "PolicyDocument": doc(escalations[(i // 20) % len(escalations)])}]
        upath = path if bounded else "/"
        u = {"Path": upath, "UserName": f"u{i}", "UserId": f"AIDAU{i:015d}",
             "Arn": f"arn:aws:iam::{A}:user{upath}u{i}",
             "UserPolicyList": inline, "GroupList": [f"team-{t}"], "AttachedManagedPolicies": attached, "Tags": tags}
        if bounded:
            u["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
        users.append(u)
    else:
        trust = ({"Service": "lambda.amazonaws.com"} if i % 4 == 1 else {"AWS": f"arn:aws:iam::{A}:role/Admin"})
        rpath = path if bounded else "/"
        r = {"Path": rpath, "RoleName": f"r{i}", "RoleId": f"AROAR{i:015d}", "Arn": f"arn:aws:iam::{A}:role{rpath}r{i}",
             "AssumeRolePolicyDocument": doc([{"Effect": "Allow", "Principal": trust, "Action": "sts:AssumeRole"}]),
             "InstanceProfileList": [], "RolePolicyList": [{"PolicyName": "own", "PolicyDocument": doc([allow(["logs:CreateLogStream", "logs:PutLogEvents"])])}],
             "AttachedManagedPolicies": attached, "Tags": tags}
        if bounded:
            r["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
        roles.append(r)
# The escalation catalogue, as vulnerable and safe pairs of principals with no boundary: one set
# per 200 principals. `iamx check --account` must report every `vuln-` principal (W0611) and
# no `safe-` one (tests/account.rs, `generated_catalogue`).
def trust(principal):
    return doc([{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}])
ROOT = {"AWS": f"arn:aws:iam::{A}:root"}
LAMBDA = {"Service": "lambda.amazonaws.com"}
ADMIN = f"arn:aws:iam::aws:policy/AdministratorAccess"
READ = f"arn:aws:iam::aws:policy/ReadOnlyAccess"
LOGS = f"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
def attach(*arns):
    return [{"PolicyName": a.rsplit("/", 1)[1], "PolicyArn": a} for a in arns]
def cat_role(name, t, inline=None, attached=()):
    roles.append({"Path": "/", "RoleName": name, "RoleId": "AROA" + name.upper()[:16], "Arn": f"arn:aws:iam::{A}:role/{name}",
                  "AssumeRolePolicyDocument": t, "InstanceProfileList": [],
                  "RolePolicyList": [{"PolicyName": "own", "PolicyDocument": doc(inline)}] if inline else [],
                  "AttachedManagedPolicies": attach(*attached), "Tags": []})
def cat_user(name, inline=None, attached=()):
    users.append({"Path": "/", "UserName": name, "UserId": "AIDA" + name.upper()[:16], "Arn": f"arn:aws:iam::{A}:user/{name}",
                  "UserPolicyList": [{"PolicyName": "own", "PolicyDocument": doc(inline)}] if inline else [],
                  "GroupList": [], "AttachedManagedPolicies": attach(*attached), "Tags": []})
def versioned(name, default, older):
    p = policy(name, doc(default))
    p["DefaultVersionId"] = "v2"
    p["PolicyVersionList"][0]["VersionId"] = "v2"
    p["PolicyVersionList"].append({"Document": doc(older), "VersionId": "v1", "IsDefaultVersion": False})
    policies.append(p)
    return p["Arn"]
role_arn = lambda name: f"arn:aws:iam::{A}:role/{name}"
user_arn = lambda name: f"arn:aws:iam::{A}:user/{name}"
logs = allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"])
lam = allow(["lambda:CreateFunction", "lambda:InvokeFunction"])
for k in range(max(1, n // 200)):
    admin, reader = f"cat-admin-{k}", f"cat-reader-{k}"
    cat_role(admin, trust(ROOT), attached=[ADMIN])
    cat_role(reader, trust(ROOT), attached=[READ])
    # sts:AssumeRole on an administrator, or on a role that holds what the user has.
    cat_user(f"vuln-assume-{k}", [allow("sts:AssumeRole", role_arn(admin))])
    cat_user(f"safe-assume-{k}", [allow("sts:AssumeRole", role_arn(reader))], [READ])
    # iam:PassRole to Lambda, of an administrator's role or of one that only writes logs.
    cat_role(f"cat-fn-admin-{k}", trust(LAMBDA), attached=[ADMIN])
    cat_role(f"cat-fn-logs-{k}", trust(LAMBDA), attached=[LOGS])
    cat_user(f"vuln-pass-{k}", [allow("iam:PassRole", role_arn(f"cat-fn-admin-{k}")), lam])
    cat_user(f"safe-pass-{k}", [allow("iam:PassRole", role_arn(f"cat-fn-logs-{k}")), lam, logs])
    # A chain of roles: the first step holds no more than the user, save the next step.
    cat_role(f"cat-hop-{k}", trust(ROOT), [allow("sts:AssumeRole", role_arn(admin))])
    cat_role(f"cat-hop-safe-{k}", trust(ROOT), [allow("sts:AssumeRole", role_arn(reader))], [READ])
    cat_user(f"vuln-chain-{k}", [allow("sts:AssumeRole", role_arn(f"cat-hop-{k}"))])
    cat_user(f"safe-chain-{k}", [allow("sts:AssumeRole", [role_arn(f"cat-hop-safe-{k}"), role_arn(reader)])], [READ])
    # A trust policy that names the user: no identity policy needed.
    cat_role(f"cat-named-admin-{k}", trust({"AWS": user_arn(f"vuln-named-{k}")}), attached=[ADMIN])
    cat_role(f"cat-named-reader-{k}", trust({"AWS": user_arn(f"safe-named-{k}")}), attached=[READ])
    cat_user(f"vuln-named-{k}")
    cat_user(f"safe-named-{k}", attached=[READ])
    # iam:SetDefaultPolicyVersion on its own policy, whose older version allows everything, or less.
    own = lambda name: allow("iam:SetDefaultPolicyVersion", f"arn:aws:iam::{A}:policy/{name}")
    v = versioned(f"cat-ver-vuln-{k}", [own(f"cat-ver-vuln-{k}")], [allow("*")])
    cat_user(f"vuln-version-{k}", attached=[v])
    v = versioned(f"cat-ver-safe-{k}", [own(f"cat-ver-safe-{k}"), allow("logs:GetLogEvents")], [own(f"cat-ver-safe-{k}")])
    cat_user(f"safe-version-{k}", attached=[v])
    # Its own inline policy, or only reading it.
    cat_user(f"vuln-self-{k}", [allow("iam:PutUserPolicy", user_arn(f"vuln-self-{k}"))])
    cat_user(f"safe-self-{k}", [allow(["iam:GetUserPolicy", "iam:ListUserPolicies"], user_arn(f"safe-self-{k}"))])
    # Access keys of an administrator, or its own.
    cat_user(f"cat-admin-user-{k}", attached=[ADMIN])
    cat_user(f"vuln-keys-{k}", [allow("iam:CreateAccessKey", user_arn(f"cat-admin-user-{k}"))])
    cat_user(f"safe-keys-{k}", [allow("iam:CreateAccessKey", user_arn(f"safe-keys-{k}"))])
json.dump({"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": policies}, sys.stdout, indent=1)
sys.stdout.write("\n")
