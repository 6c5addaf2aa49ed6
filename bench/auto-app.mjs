// bench/auto's server: a small JSON endpoint with one await (as most handlers have), on PORT (argv[2]) of
// 127.0.0.1. Prints "listening" once ready. Unmodified: bench/auto loads ltt/auto or OpenTelemetry with --import.
import http from 'node:http';

const body = JSON.stringify({ ok: true, items: Array.from({ length: 10 }, (_, i) => ({ id: i, name: `item ${i}` })) });
const lookup = async (url) => (url === '/' ? body : undefined);

const server = http.createServer(async (req, res) => {
  const out = await lookup(req.url);
  if (out === undefined) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
  res.end(out);
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
