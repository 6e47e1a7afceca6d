import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import {startDrillWorld, type DrillFixture} from '../helpers/drill-world.js';
import {runCli} from '../helpers/run-cli.js';

let drill: DrillFixture;

before(async () => {
	drill = await startDrillWorld({objects: 50});
});

after(async () => {
	await drill?.stop();
});

test('the printed Roles are valid YAML that kubectl applies, and each level includes the one below', async () => {
	const levels: Record<string, string> = {};
	for (const level of ['read', 'restore', 'setup']) {
		// eslint-disable-next-line no-await-in-loop
		const printed = await runCli(['rbac', '--level', level, '--group', 'oncall']);
		assert.equal(printed.code, 0, printed.stderr);
		levels[level] = printed.stdout;
		// eslint-disable-next-line no-await-in-loop
		const applied = await drill.kubectl(['apply', '-f', '-'], {input: printed.stdout});
		assert.equal(applied.code, 0, applied.stderr);
		assert.match(applied.stdout, new RegExp(`clusterrole.rbac.authorization.k8s.io/ilum-restore-${level} created`));
	}

	const rules = await drill.kubectl(['-n', 'ilum', 'get', 'role', 'ilum-restore-read', '-o', 'jsonpath={range .rules[*]}{.resources}:{.verbs}{"\\n"}{end}']);
	assert.match(rules.stdout, /"volumesnapshots"\]:\["get","list","watch"\]/);
	// Read changes nothing: its one create is a port-forward to the provider's S3 port (the console without --s3-endpoint).
	assert.match(rules.stdout, /"pods\/portforward"\]:\["get","create"\]/);
	assert.doesNotMatch(rules.stdout.split('\n').filter(line => !line.includes('pods/portforward')).join('\n'), /create|delete|patch/, 'read is read-only (but for access reviews, which are cluster-wide, and the port-forward)');
	const binding = await drill.kubectl(['get', 'clusterrolebinding', 'ilum-restore-restore', '-o', 'jsonpath={.subjects[0].kind}/{.subjects[0].name}']);
	assert.equal(binding.stdout, 'Group/oncall');
	assert.match(levels['restore']!, /statefulsets\/scale/);
	assert.doesNotMatch(levels['restore']!, /rolebindings/);
	assert.match(levels['setup']!, /rolebindings/);
});

test('an unknown level is a usage error', async () => {
	const result = await runCli(['rbac', '--level', 'root']);
	assert.equal(result.code, 2);
});
