#!/usr/bin/env python3
"""Writes an account snapshot (the output of `aws iam get-account-authorization-details`) with
N users and roles (default 1,000) to stdout: a guarded boundary (the one of
tests/fixtures/account/safe_delegated_admin.json) and an open one, bounded users and roles
under /developers/ (some delegating admins), groups with members, customer managed policies
attached to many, roles trusting services and other roles, an administrator role, and a few
unbounded users with classic escalations (sts:AssumeRole on the administrator,
iam:CreatePolicyVersion, iam:PassRole with lambda:CreateFunction). Every tenth document is
URL-encoded, as the IAM API returns them."""
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
json.dump({"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": policies}, sys.stdout, indent=1)
sys.stdout.write("\n")
