#!/usr/bin/env python3
"""Growth of iamx on the input shapes that once cost quadratic time or exponential memory
(issue 15). Each shape runs at two sizes, n and 2n, in a temporary directory; the last column
is t(2n) / t(n): about 2 for linear growth, about 4 for quadratic.

Usage: python3 bench/blowups.py [--bin PATH] [--scale F] [--only NAME] [--timeout S]

--scale multiplies every size (0.25 for a quick look). The default sizes are those of the
issue, as the larger of the two runs. Build the binary first: `cargo build --release`.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HEAD = 'account "123456789012"\n'


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def unknown_actions_json(n, pretty):
    statements = [
        # Names of one length, so that each "did you mean" costs the same.
        {"Effect": "Allow", "Action": f"s3:GetObjectt{i:06d}", "Resource": "*"}
        for i in range(n)
    ]
    doc = {"Version": "2012-10-17", "Statement": statements}
    return json.dumps(doc, indent=2 if pretty else None)


def shape_human(d, n):
    # One line of JSON (about 75 bytes a statement) with a diagnostic per statement.
    write(f"{d}/one-line.json", unknown_actions_json(n, pretty=False))
    return ["check", f"{d}/one-line.json", "--color", "never"]


def shape_json_lines(d, n):
    write(f"{d}/many.json", unknown_actions_json(n, pretty=True))
    return ["check", f"{d}/many.json", "--message-format", "json"]


def shape_sarif(d, n):
    write(f"{d}/many.json", unknown_actions_json(n, pretty=True))
    return ["check", f"{d}/many.json", "--message-format", "sarif"]


def shape_duplicate_actions(d, n):
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"] * n, "Resource": "*"}],
    }
    write(f"{d}/dup.json", json.dumps(doc, indent=1))
    return ["check", f"{d}/dup.json", "--message-format", "json"]


def shape_duplicate_actions_iamx(d, n):
    actions = ", ".join(["s3:GetObject"] * n)
    write(f"{d}/dup.iamx", HEAD + f"policy P {{\n  allow {actions} on *\n}}\n")
    return ["check", f"{d}/dup.iamx", "--message-format", "json"]


def shape_condition_keys(d, n):
    keys = {f"aws:PrincipalTag/k{i}": "v" for i in range(n)}
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {"StringEquals": keys},
            }
        ],
    }
    write(f"{d}/cond.json", json.dumps(doc, indent=1))
    return ["check", f"{d}/cond.json", "--message-format", "json"]


def shape_trust(d, n):
    statements = [
        {
            "Effect": "Allow",
            # Anyone: a W0316 warning per statement.
            "Principal": "*",
            "Action": "sts:AssumeRole",
        }
        for i in range(n)
    ]
    # Compact, so that 60,000 statements stay under the 8 MiB limit.
    write(f"{d}/trust.json", json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":")))
    return ["check", f"{d}/trust.json", "--kind", "trust", "--message-format", "json"]


def shape_resource(d, n):
    statements = [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::b/{i}",
        }
        for i in range(n)
    ]
    write(f"{d}/res.json", json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":")))
    return ["check", f"{d}/res.json", "--kind", "resource", "--message-format", "json"]


def shape_project(d, n):
    # n policies and n roles, each role with its policy attached.
    lines = [HEAD]
    for i in range(n):
        lines.append(f'policy P{i} {{ allow s3:GetObject on "arn:aws:s3:::b{i}/*" }}\n')
        lines.append(f"role r{i} {{\n  trust {{ allow service lambda.amazonaws.com }}\n  attach P{i}\n}}\n")
    write(f"{d}/project.iamx", "".join(lines))
    return ["build", f"{d}/project.iamx", "-o", f"{d}/out"]


def shape_test_failures(d, n):
    lines = [HEAD, "role app {\n  trust { allow account }\n  allow s3:GetObject on *\n}\n"]
    lines.append('test "all wrong" {\n  as role app\n')
    for i in range(n):
        lines.append(f'  expect deny s3:GetObject on "arn:aws:s3:::b/k{i}"\n')
    lines.append("}\n")
    write(f"{d}/t.iamx", "".join(lines))
    return ["test", f"{d}/t.iamx", "--color", "never"]


def shape_let_chain(d, n):
    # `let l_i = l_{i+1}`, declared so that resolving the first walks the whole chain.
    lines = [HEAD, 'let l0 = ["s3:GetObject"]\n']
    lines += [f"let l{i} = l{i - 1}\n" for i in range(1, n)]
    lines.append(f"policy P {{ allow s3:GetObject on * when aws:SourceIp in l{n - 1} }}\n")
    write(f"{d}/chain.iamx", "".join(reversed(lines[1:])) + HEAD)
    return ["check", f"{d}/chain.iamx", "--message-format", "json"]


def shape_let_fanout(d, n):
    lines = [HEAD, 'let l0 = ["10.0.0.0/8"]\n']
    lines += [f"let l{i} = [l{i - 1}, l{i - 1}]\n" for i in range(1, n)]
    lines.append(f"policy P {{ allow s3:GetObject on * when aws:SourceIp in l{n - 1} }}\n")
    write(f"{d}/fanout.iamx", "".join(lines))
    return ["check", f"{d}/fanout.iamx", "--message-format", "json"]


# name, function, larger size (the issue's), what the issue measured.
# duplicate-actions-json is a control: JSON documents do not warn about repeated values.
SHAPES = [
    ("human-one-line-json", shape_human, 2000, "27 s"),
    ("json-lines-diagnostics", shape_json_lines, 20000, "14.7 s"),
    ("sarif-diagnostics", shape_sarif, 20000, "14.7 s"),
    ("duplicate-actions-iamx", shape_duplicate_actions_iamx, 40000, "9.4 s"),
    ("duplicate-actions-json", shape_duplicate_actions, 40000, ""),
    ("json-condition-keys", shape_condition_keys, 32000, "4.9 s"),
    ("statements-kind-trust", shape_trust, 60000, "> 30 s"),
    ("statements-kind-resource", shape_resource, 60000, "> 30 s"),
    ("project-policies-roles", shape_project, 5000, "60 s"),
    ("test-failing-expectations", shape_test_failures, 20000, "45 s"),
    ("let-chain", shape_let_chain, 6000, "stack overflow"),
    ("let-fan-out (lines)", shape_let_fanout, 24, "out of memory"),
]


def limit_memory():
    # 2 GiB of address space: a blowup ends as a failed allocation, not a swapping machine.
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def run(binary, args, timeout):
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [binary] + args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            preexec_fn=limit_memory,
        )
    except subprocess.TimeoutExpired:
        return None, "timeout"
    elapsed = time.perf_counter() - start
    code = proc.returncode
    return elapsed, ("killed" if code < 0 else f"exit {code}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default="target/release/iamx")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--only", default=None)
    parser.add_argument("--timeout", type=float, default=120)
    opts = parser.parse_args()
    print(f"{'shape':28} {'n':>7} {'t(n)':>9} {'2n':>7} {'t(2n)':>9} {'ratio':>6}  exit  (issue)")
    for name, shape, big, issue in SHAPES:
        if opts.only and opts.only not in name:
            continue
        big = max(2, int(big * opts.scale)) if "fan-out" not in name else big
        small = big // 2 if "fan-out" not in name else big - 1
        times = []
        status = ""
        for n in (small, big):
            # In memory where the machine has it: writing 10,000 files to a disk that just
            # deleted as many is the file system's cost (ext4 looks for inodes to reuse), not
            # iamx's, and it varies from run to run.
            ram = "/dev/shm" if os.path.isdir("/dev/shm") else None
            with tempfile.TemporaryDirectory(dir=ram) as d:
                args = shape(d, n)
                elapsed, status = run(opts.bin, args, opts.timeout)
                times.append(elapsed)
        fmt = lambda t: "  timeout" if t is None else f"{t:8.2f}s"
        ratio = (
            f"{times[1] / times[0]:6.2f}" if None not in times and times[0] > 0 else "     -"
        )
        print(
            f"{name:28} {small:>7} {fmt(times[0])} {big:>7} {fmt(times[1])} {ratio}  {status:5} ({issue})",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
