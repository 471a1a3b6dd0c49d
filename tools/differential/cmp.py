import json, sys, collections
lines = {json.loads(l)["id"]: json.loads(l) for l in open(sys.argv[1])}
a = {json.loads(l)["id"]: json.loads(l) for l in open(sys.argv[2])}  # iamx
b = {json.loads(l)["id"]: json.loads(l) for l in open(sys.argv[3])}  # iam-simulate
agree = dis = skipped = 0
byaction = collections.Counter(); dis_examples = collections.defaultdict(list)
for i, line in lines.items():
    if "decision" not in a.get(i, {}) or "decision" not in b.get(i, {}):
        skipped += 1; continue
    if a[i]["decision"] == b[i]["decision"]:
        agree += 1
    else:
        dis += 1
        key = (line["request"]["action"], a[i]["decision"], b[i]["decision"])
        byaction[key] += 1
        dis_examples[key].append(i)
print(f"compared {agree+dis}, agree {agree} ({100*agree/max(1,agree+dis):.2f}%), disagree {dis}, skipped {skipped}")
for k, n in byaction.most_common(30):
    print(n, k, dis_examples[k][:3])
