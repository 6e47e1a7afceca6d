import {test} from 'node:test';
import assert from 'node:assert/strict';
import {ListObjectsV2Command} from '@aws-sdk/client-s3';
import {findScenario} from '../../source/drill/scenarios/index.js';
import {ilum} from '../../source/drill/seed/ilum.js';
import {adminToken, viewerToken} from '../../source/drill/world.js';
import {coreSeeders, startDrillWorld} from '../helpers/drill-world.js';
import {runCli} from '../helpers/run-cli.js';

/*
`restore mirror --in-cluster` as an identity whose RBAC allows everything it needs but Jobs: refused
(exit 3) before anything changes, naming the missing permissions, on both paths: the Jobs alone
(the mirror not reachable from here) and the engine (both endpoints reachable, its preflight).
*/
test('restore mirror --in-cluster without RBAC for Jobs: refused before any change, the missing permission named', {timeout: 300_000}, async () => {
	const drill = await startDrillWorld({
		seeders: coreSeeders,
		identities: {
			[adminToken]: {name: 'admin'},
			[viewerToken]: {name: 'viewer', readOnly: true},
			'drill-nojobs-token': {name: 'nojobs', rules: [
				{verbs: ['*'], apiGroups: ['', 'apps', 'storage.k8s.io', 'snapshot.storage.k8s.io', 'coordination.k8s.io', 'events.k8s.io', 'authorization.k8s.io'], resources: ['*']},
				{verbs: ['*'], apiGroups: ['batch'], resources: ['cronjobs', 'cronjobs/*']},
				{verbs: ['get', 'list', 'watch'], apiGroups: ['batch'], resources: ['jobs', 'jobs/*']},
			]},
		},
	});
	const {world} = drill;
	try {
		await findScenario('bucket-wipe')!.inject(world);
		await world.idle();
		const provider = drill.s3('provider');
		const count = async () => (await provider.send(new ListObjectsV2Command({Bucket: 'ilum-data'}))).KeyCount ?? 0;
		const before = await count();
		const env = {...drill.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_ENDPOINT_URL: '', MIRROR_ENDPOINT_URL: ''};
		const base = ['restore', 'mirror', '--in-cluster', '--yes', '--bucket', 'ilum-data', '--kubeconfig', world.kubeconfigPath, '--context', 'drill-nojobs'];
		// Changes asked of the API server (a port-forward to reach the provider from here is not one).
		const mutating = () => world.api.requests().filter(request => ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(request.verb) && request.resource !== 'selfsubjectaccessreviews' && request.subresource !== 'portforward' && request.user === 'nojobs').map(request => `${request.verb} ${request.path}`);

		// The Jobs alone (the mirror not reachable from here).
		const alone = await runCli([...base, '--mirror-endpoint', 'http://127.0.0.1:9'], {env, timeoutMs: 180_000});
		assert.equal(alone.code, 3, alone.stderr);
		assert.match(alone.stderr, /Refused: RBAC does not allow \S+ to create jobs\.batch in namespace ilum; delete jobs\.batch in namespace ilum; patch jobs\.batch in namespace ilum; nothing was changed: ask an administrator/);
		assert.doesNotMatch(alone.stderr, /patch cronjobs/, 'only what is missing is named');

		// The engine (both endpoints reachable from here): its preflight.
		const engine = await runCli([...base, '--s3-endpoint', world.provider.endpoint, '--mirror-endpoint', world.backup.endpoint], {env: {...env, AWS_ACCESS_KEY_ID: world.provider.accessKeyId, AWS_SECRET_ACCESS_KEY: world.provider.secretAccessKey, MIRROR_ACCESS_KEY_ID: world.backup.accessKeyId, MIRROR_SECRET_ACCESS_KEY: world.backup.secretAccessKey}, timeoutMs: 180_000});
		assert.equal(engine.code, 3, engine.stderr);
		assert.match(engine.stderr, /RBAC does not allow: create jobs\.batch in namespace ilum/);

		assert.deepEqual(mutating(), [], 'nothing was asked to change in the cluster');
		assert.equal(world.store.get('cronjobs', ilum.namespace, ilum.backupCronJob)?.spec?.suspend, false, 'the CronJob was not held');
		assert.equal(world.store.list('jobs', ilum.namespace).items.filter(job => job.metadata?.name?.startsWith('ilum-restore-mirror-')).length, 0, 'no Job');
		assert.equal(await count(), before, 'the provider bucket is as it was');
	} finally {
		await drill.stop();
	}
});
