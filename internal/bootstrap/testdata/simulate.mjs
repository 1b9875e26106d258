// Evaluates IAM requests with @cloud-copilot/iam-simulate for the isolation
// test (isolation_test.go): a JSON list of its Simulation objects on stdin,
// a JSON list of {decision, error} on stdout, in the same order.
import { runSimulation } from '@cloud-copilot/iam-simulate'

let input = ''
for await (const chunk of process.stdin) input += chunk
const out = []
for (const simulation of JSON.parse(input)) {
  const r = await runSimulation(simulation, {})
  out.push(r.resultType === 'error'
    ? { error: JSON.stringify(r.errors) }
    : { decision: r.overallResult })
}
process.stdout.write(JSON.stringify(out))
