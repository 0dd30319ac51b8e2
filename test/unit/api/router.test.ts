/** Routes: patterns with parameters, HEAD answered by GET, the /vX.Y prefix and the versions berthd speaks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { json } from '../../../src/api/reply.ts';
import { API_VERSION, compareVersions, MIN_API_VERSION, Router, splitVersion } from '../../../src/api/router.ts';
import { isBerthError } from '../../../src/errors.ts';

const h = (name: string) => () => json(name);

test('a route matches its method and path, and names its parameters', () => {
  const r = new Router();
  r.post('/containers/{id}/start', h('start'));
  r.get('/containers/{id}/json', h('inspect'));
  r.get('/images/{name*}/json', h('image'));
  const m = r.match('POST', '/containers/web/start');
  assert.equal(m?.route.pattern, '/containers/{id}/start');
  assert.deepEqual(m?.params, { id: 'web' });
  assert.equal(r.match('GET', '/containers/web/start'), undefined, 'another method');
  assert.equal(r.match('POST', '/containers/web/start/x'), undefined, 'a longer path');
  assert.equal(r.match('POST', '/containers//start'), undefined, 'an empty parameter');
  assert.deepEqual(r.match('GET', '/images/library/busybox:1.36/json')?.params, { name: 'library/busybox:1.36' });
  assert.deepEqual(r.match('GET', '/containers/a%2Fb%20c/json')?.params, { id: 'a/b c' });
});

test('HEAD is answered by the GET route unless it has its own', () => {
  const r = new Router();
  r.get('/_ping', h('get'));
  r.get('/info', h('info'));
  r.head('/_ping', h('head'));
  assert.equal(r.match('HEAD', '/_ping')?.route.method, 'HEAD');
  assert.equal(r.match('HEAD', '/info')?.route.method, 'GET');
  assert.equal(r.match('POST', '/info'), undefined);
});

test('the first route registered that matches wins; the same route twice is refused', () => {
  const r = new Router();
  r.get('/containers/json', h('list'));
  r.get('/containers/{id}', h('one'));
  assert.equal(r.match('GET', '/containers/json')?.route.pattern, '/containers/json');
  assert.throws(() => r.get('/containers/json', h('again')), (err) => isBerthError(err, 'api_route_invalid'));
  assert.throws(() => r.get('containers', h('x')), (err) => isBerthError(err, 'api_route_invalid'));
  assert.throws(() => r.get('/a/{b}c', h('x')), (err) => isBerthError(err, 'api_route_invalid'));
});

test('bad percent-encoding in a parameter is a client error', () => {
  const r = new Router();
  r.get('/containers/{id}/json', h('inspect'));
  assert.throws(() => r.match('GET', '/containers/%E0%A4%A/json'), (err) => isBerthError(err, 'api_path_invalid'));
});

test('the /vX.Y prefix is split off; versions outside berthd\'s are refused in dockerd\'s words', () => {
  assert.deepEqual(splitVersion('/v1.43/containers/json'), { version: '1.43', path: '/containers/json' });
  assert.deepEqual(splitVersion('/v1.24/_ping'), { version: '1.24', path: '/_ping' });
  assert.deepEqual(splitVersion('/containers/json'), { version: undefined, path: '/containers/json' });
  assert.deepEqual(splitVersion('/volumes'), { version: undefined, path: '/volumes' }, 'a path starting with v is not a version');
  assert.throws(() => splitVersion('/v1.12/info'), (err) => isBerthError(err, 'api_version_unsupported') && /too old. Minimum supported API version is 1.24/.test(err.message));
  assert.deepEqual(splitVersion('/v1.50/info'), { version: '1.50', path: '/info' });
  assert.throws(() => splitVersion('/v1.51/info'), (err) => isBerthError(err, 'api_version_unsupported') && /too new. Maximum supported API version is 1.50/.test(err.message));
  assert.equal(compareVersions('1.9', '1.43'), -1);
  assert.equal(compareVersions(API_VERSION, MIN_API_VERSION), 1);
});
