// A load generator in its own process (the daemon under test keeps the bench's process to
// itself): `connections` keep-alive clients GET `url` for `seconds`, then print the statuses and
// the sorted latencies (ms) as JSON on stdout.
import http from 'node:http';

const [url, connections = '32', seconds = '5'] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(connections) });
const until = performance.now() + Number(seconds) * 1000;
const latencies = [];
const statuses = {};

function once() {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const request = http.get(url, { agent }, (response) => {
      response.resume();
      response.on('end', () => {
        latencies.push(performance.now() - start);
        statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
        resolve();
      });
    });
    request.on('error', reject);
  });
}

async function client() {
  while (performance.now() < until) await once();
}

const began = performance.now();
await Promise.all(Array.from({ length: Number(connections) }, client));
const elapsed = (performance.now() - began) / 1000;
latencies.sort((a, b) => a - b);
agent.destroy();
process.stdout.write(JSON.stringify({ elapsed, statuses, latencies }));
