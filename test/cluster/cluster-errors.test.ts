import {test} from 'node:test';
import assert from 'node:assert/strict';
import {toClusterError} from '../../source/cluster/cluster-errors.js';

test('401, 403, unreachable become one line with what to do', () => {
	const request = {verb: 'list', resource: 'volumesnapshots.snapshot.storage.k8s.io', namespace: 'ilum', server: 'https://k8s:6443'};
	const expired = toClusterError({code: 401, body: '{"message":"Unauthorized"}'}, request);
	assert.equal(expired.kind, 'unauthorized');
	assert.match(expired.line(), /expired.*log in again/);
	const forbidden = toClusterError({code: 403, body: {message: 'forbidden'}}, request);
	assert.equal(forbidden.line(), 'Forbidden: RBAC does not allow list on volumesnapshots.snapshot.storage.k8s.io in namespace ilum: ask for a Role granting \'list\' on \'volumesnapshots.snapshot.storage.k8s.io\' in namespace ilum');
	const refused = toClusterError(Object.assign(new TypeError('fetch failed'), {cause: {code: 'ECONNREFUSED'}}), request);
	assert.equal(refused.kind, 'unreachable');
	assert.match(refused.line(), /https:\/\/k8s:6443 is unreachable \(ECONNREFUSED\)/);
});
