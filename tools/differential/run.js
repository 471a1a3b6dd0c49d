const { runSimulation } = require('@cloud-copilot/iam-simulate');
const fs = require('fs');
const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean);
(async () => {
  for (const text of lines) {
    const l = JSON.parse(text);
    const r = l.request;
    let acct = r.resource.split(":")[4] || r.principal.split(":")[4]; if (acct === "aws" && process.env.AWS_AS_OWN) acct = r.principal.split(":")[4];
    const sim = {
      request: { principal: r.principal, action: r.action, resource: { resource: r.resource, accountId: acct }, contextVariables: r.context },
      identityPolicies: (l.identity || []).map((p, i) => ({ name: 'id' + i, policy: p })),
      serviceControlPolicies: (l.scps || []).map((p, i) => ({ orgIdentifier: 'ou-' + i, policies: [{ name: 'scp' + i, policy: p }] })),
      resourceControlPolicies: [],
    };
    if (l.boundary) sim.permissionBoundaryPolicies = [{ name: 'b', policy: l.boundary }];
    if (l.resource_policy) sim.resourcePolicy = l.resource_policy;
    let out;
    try {
      const res = await runSimulation(sim, {});
      out = res.resultType === 'error' ? { id: l.id, error: JSON.stringify(res.errors).slice(0, 300) } : { id: l.id, decision: res.overallResult };
    } catch (e) { out = { id: l.id, error: String(e).slice(0, 300) }; }
    console.log(JSON.stringify(out));
  }
})();
