'use strict';
// The server berth's watchdog proxies to (mode http, upstream_url): each
// request becomes an event for function/handler.js, as OpenFaaS's node
// templates shape it, with Node's own http module (no dependencies).
const http = require('node:http');
const handler = require('./function/handler.js');

const PORT = Number(process.env.http_port || 3000);

function eventOf(req, raw) {
  const url = new URL(req.url, 'http://function');
  const type = String(req.headers['content-type'] || '');
  let body = raw.toString('utf8');
  if (type.startsWith('application/json') && body !== '') {
    try {
      body = JSON.parse(body);
    } catch {
      // left as text: the handler decides
    }
  }
  return { method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body, rawBody: raw };
}

function contextFor() {
  const c = { statusCode: 200, headerValues: {}, result: undefined, done: false };
  c.status = (code) => ((c.statusCode = code), c);
  c.headers = (h) => (Object.assign(c.headerValues, h), c);
  c.succeed = (value) => ((c.result = value), (c.done = true), c);
  c.fail = (err) => ((c.statusCode = 500), (c.result = String(err && err.message ? err.message : err)), (c.done = true), c);
  return c;
}

function send(res, status, headers, value) {
  let body = value;
  const h = { ...headers };
  if (body === undefined || body === null) body = '';
  else if (Buffer.isBuffer(body) || typeof body === 'string') body = body;
  else {
    body = JSON.stringify(body);
    h['content-type'] = h['content-type'] || 'application/json';
  }
  res.writeHead(status, h);
  res.end(body);
}

http
  .createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const context = contextFor();
      try {
        const returned = await handler(eventOf(req, Buffer.concat(chunks)), context);
        const value = returned === context ? context.result : context.done ? context.result : returned;
        send(res, context.statusCode, context.headerValues, value);
      } catch (err) {
        console.error(err);
        send(res, 500, {}, String(err && err.message ? err.message : err));
      }
    });
  })
  .listen(PORT, '127.0.0.1');
