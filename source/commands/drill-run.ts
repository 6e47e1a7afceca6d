import {spawn} from 'node:child_process';
import process from 'node:process';
import readline from 'node:readline/promises';
import {fileURLToPath} from 'node:url';
import {exitCodes, usageError} from '../errors.js';
import {writeJson} from '../output.js';
import {resolveStateDir} from '../restore/state-dir.js';
import type {Command} from './command.js';
import {inventoryFlags} from './inventory.js';
import {clockStartOption} from './drill-serve.js';

const bin = fileURLToPath(new URL('../bin.js', import.meta.url));

export const drillListCommand: Command = {
	path: ['drill', 'list'],
	summary: 'The incidents a drill can stage',
	usage: `
		$ ilum-restore drill list [--json]
	`,
	async run({flags, stdout}) {
		const {scenarios} = await import('../drill/scenarios/index.js');
		if (flags['json']) {
			writeJson(stdout, scenarios.map(scenario => ({name: scenario.name, summary: scenario.summary, targetRtoMinutes: scenario.briefing.targetRtoMinutes, auto: scenario.recovery !== undefined})));
		} else {
			const width = Math.max(...scenarios.map(scenario => scenario.name.length));
			stdout.write(scenarios.map(scenario => `${scenario.name.padEnd(width)}  ${scenario.summary} (target ${scenario.briefing.targetRtoMinutes} min)`).join('\n') + '\n');
		}

		return exitCodes.ok;
	},
};

export const drillRunCommand: Command = {
	path: ['drill', 'run'],
	summary: 'Stage an incident in the drill world, recover from it, get a debrief',
	usage: `
		$ ilum-restore drill run <scenario> [--auto] [--seed N] [--objects N] [--clock-start TIME] [--json]

		Starts the drill world, injects the incident and prints the briefing: what happened, what
		success means, the target time to recover. Then the console opens on the incident (its status
		bar shows the drill's clock against the target): recover as in a real incident and quit (q)
		when done; other terminals can join with the world's kubeconfig (printed). --auto runs the
		recommended recovery itself, through the same commands, engine and gates. The debrief
		(recovered or not, time against the target, data lost for good, mistakes) is printed and
		saved as Markdown and JSON under <state dir>/drills/.
		Exit 0 when recovered, 1 when not.
	`,
	flags: {
		...inventoryFlags,
		auto: {type: 'boolean', default: false, description: 'Perform the recommended recovery and print the debrief (drill run)'},
		seed: {type: 'number', default: 1, description: 'Seed of the generated world (same seed, same data)'},
		objects: {type: 'number', default: 3000, description: 'How many objects the seven buckets hold'},
	},
	async run(context) {
		const {flags, args, stderr, stdout, signal} = context;
		const {findScenario, scenarios} = await import('../drill/scenarios/index.js');
		const name = args[0];
		const scenario = name ? findScenario(name) : undefined;
		if (!scenario) {
			throw usageError(name ? `No scenario '${name}'` : 'Name the scenario to run', `choose one of: ${scenarios.map(item => item.name).join(', ')} (ilum-restore drill list)`);
		}

		const auto = Boolean(flags['auto']);
		const recovery = scenario.recovery?.bind(scenario);
		if (auto && !recovery) {
			throw usageError(`Scenario ${scenario.name} has no recommended recovery to run`, 'run it without --auto and recover by hand');
		}

		if (!auto && !context.interactive) {
			throw usageError('A drill without --auto needs a terminal (you recover by hand, then press Enter)', `ilum-restore drill run ${scenario.name} --auto`);
		}

		const now = clockStartOption(flags);
		const stateDir = resolveStateDir(flags['stateDir'] as string | undefined);
		const {startWorld} = await import('../drill/world.js');
		const {buildDebrief, formatDebriefMarkdown, observedMistakes, saveDebrief} = await import('../drill/debrief.js');
		const say = (line: string) => stderr.write(line + '\n');
		const world = await startWorld({seed: Number(flags['seed'] ?? 1), objects: Number(flags['objects'] ?? 3000), now, log: () => {}});
		try {
			const state = await scenario.inject(world) as Record<string, unknown>;
			const startedAt = new Date();
			const since = world.clock.iso();
			say(`\n== Drill: ${scenario.name} ==\n${scenario.briefing.what}\n\nSuccess: ${scenario.briefing.success}\nTarget time to recover: ${scenario.briefing.targetRtoMinutes} min. The clock runs from now.\n`);
			const connection = ['--kubeconfig', world.kubeconfigPath, '--s3-endpoint', world.provider.endpoint];
			// The provider's credentials, as an operator exports them for table restores over S3.
			const credentials = {AWS_ACCESS_KEY_ID: world.provider.accessKeyId, AWS_SECRET_ACCESS_KEY: world.provider.secretAccessKey, AWS_REGION: 'us-east-1'};
			const commands: Array<{argv: readonly string[]; code: number}> = [];
			if (auto) {
				for (const command of recovery!(world, state)) {
					say(`$ ilum-restore ${command.argv.join(' ')}    # ${command.why}`);
					// eslint-disable-next-line no-await-in-loop
					const code = await runChild([...command.argv, ...connection, '--state-dir', stateDir], credentials, stderr, signal);
					commands.push({argv: command.argv, code});
					if (code !== 0) {
						say(`(exit ${code}: the recovery stopped here)`);
						break;
					}
				}
			} else {
				say(`Other terminals can join the world:\n  export KUBECONFIG=${world.kubeconfigPath}\n  export AWS_ACCESS_KEY_ID=${world.provider.accessKeyId} AWS_SECRET_ACCESS_KEY=${world.provider.secretAccessKey}\n  ilum-restore inventory --s3-endpoint ${world.provider.endpoint}    # every recovery point, tables with their refs\n  (provider S3 ${world.provider.endpoint}, mirror S3 ${world.backup.endpoint})\n`);
				const prompt = readline.createInterface({input: process.stdin, output: stderr});
				try {
					await prompt.question('Press Enter to open the console on the incident; quit it (q) when you have recovered. ', {signal});
				} catch {} finally {
					prompt.close();
				}

				if (!signal.aborted) {
					const {runConsole} = await import('../ui/run-console.js');
					// The console runs in this process: what it restores over S3 uses the world's keys.
					Object.assign(process.env, {AWS_ACCESS_KEY_ID: world.provider.accessKeyId, AWS_SECRET_ACCESS_KEY: world.provider.secretAccessKey, AWS_REGION: 'us-east-1'});
					const deadline = startedAt.getTime() + scenario.briefing.targetRtoMinutes * 60_000;
					await runConsole({
						flags: {...flags, kubeconfig: world.kubeconfigPath, stateDir},
						signal,
						world: {kubeconfig: world.kubeconfigPath, s3Endpoint: world.provider.endpoint, mirrorEndpoint: world.backup.endpoint},
						drill: {scenario: scenario.name, startedAt: startedAt.getTime(), deadline},
					});
				}
			}

			const endedAt = new Date();
			await world.idle();
			const check = await scenario.check(world, state);
			const debrief = saveDebrief(stateDir, buildDebrief({
				scenario,
				mode: auto ? 'auto' : 'operator',
				startedAt,
				endedAt,
				check,
				observed: observedMistakes(world, since, world.clock.iso()),
				commands,
			}));
			if (flags['json']) {
				writeJson(stdout, {type: 'result', ...debrief});
			} else {
				stdout.write(formatDebriefMarkdown(debrief) + `\nSaved: ${debrief.files!.markdown}\n`);
			}

			return debrief.recovered ? exitCodes.ok : exitCodes.failed;
		} finally {
			await world.stop();
		}
	},
};

/** Runs the CLI itself as a child (the same binary, engine and gates an operator uses). */
async function runChild(args: readonly string[], env: Record<string, string>, stderr: NodeJS.WritableStream, signal: AbortSignal): Promise<number> {
	const child = spawn(process.execPath, [bin, ...args], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, ...env}, signal});
	const forward = (chunk: Buffer) => {
		for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
			stderr.write(`  | ${line}\n`);
		}
	};

	child.stdout.on('data', forward);
	child.stderr.on('data', forward);
	return new Promise(resolve => {
		child.on('close', code => {
			resolve(code ?? 1);
		});
		child.on('error', () => {
			resolve(1);
		});
	});
}
