import {CreateBucketCommand, DeleteObjectsCommand, HeadBucketCommand, ListBucketsCommand, ListObjectsV2Command, type S3Client} from '@aws-sdk/client-s3';
import {describe, httpStatus, mcMirror} from './mc-mirror.js';
import {drillS3Client} from './s3-client.js';

/**
What the `minio/mc` image does in the drill world: a small interpreter for the shell scripts Ilum's
Jobs run (`/bin/sh -c '...'`) and for `mc` invoked directly (`command: [mc, mirror, ...]`).

Shell subset: lines and `;`, `&&`, `||`, `#` comments, `set -e`/`-u`/`-x`/`-o pipefail`,
`VAR=value`, `export VAR=value`, `$VAR`/`${VAR}` expansion inside double quotes and bare words,
single quotes, `for VAR in WORDS; do ...; done` (one level, on one or many lines), `echo`,
`true`, `false`, `sleep` (no wait), `exit N`.
mc subset: `alias set` (and `config host add`), `MC_HOST_<alias>` variables, `mb [--ignore-existing|-p]`,
`mirror [--preserve|-a] [--remove] [--overwrite] [--dry-run]`, `rm [--recursive --force]`, `ls`, `ready`, global `--quiet`,
`--json`, `--no-color`, `--insecure`. Anything else fails like a missing binary or an unknown mc
command would.
*/
export type McRuntime = {
	readonly env: Record<string, string>;
	/** Maps in-cluster URLs (`http://ilum-objectstorage:9000`) to reachable ones. */
	readonly resolveUrl: (url: string) => string;
	readonly log: (line: string) => void;
	readonly signal?: AbortSignal;
};

type Alias = {url: string; accessKey: string; secretKey: string};

class ExitError extends Error {
	readonly code: number;

	constructor(code: number) {
		super(`exit ${code}`);
		this.code = code;
	}
}

export async function runContainer(command: readonly string[], args: readonly string[], runtime: McRuntime): Promise<number> {
	const argv = [...command, ...args];
	const [first, ...rest] = argv;
	if (first && /(^|\/)(ba|da)?sh$/.test(first)) {
		const scriptIndex = rest.findIndex(argument => argument === '-c' || /^-[a-z]*c$/.test(argument));
		if (scriptIndex === -1) {
			runtime.log(`${first}: only '-c SCRIPT' is simulated in the drill world`);
			return 2;
		}

		return runScript(rest[scriptIndex + 1] ?? '', runtime);
	}

	const shell = new Shell(runtime);
	if (!first) {
		// The image's entrypoint is mc.
		return shell.run([]);
	}

	return first === 'mc' || first.endsWith('/mc') ? shell.runCommand(['mc', ...rest]) : shell.runCommand(argv);
}

export async function runScript(script: string, runtime: McRuntime): Promise<number> {
	const shell = new Shell(runtime);
	try {
		return await shell.run(parse(script));
	} catch (error) {
		if (error instanceof ExitError) {
			return error.code;
		}

		throw error;
	}
}

type Node =
	| {type: 'simple'; words: string[]}
	| {type: 'and' | 'or'; left: Node; right: Node}
	| {type: 'for'; variable: string; words: string[]; body: Node[]};

/** Raw words keep their quoting marks; expansion happens at run time. */
function tokenize(script: string): string[] {
	const tokens: string[] = [];
	let current = '';
	let inWord = false;
	for (let index = 0; index < script.length; index++) {
		const char = script[index]!;
		if (char === '\\' && script[index + 1] === '\n') {
			index++;
			continue;
		}

		if (char === '\'' || char === '"') {
			const end = findClosing(script, index, char);
			current += script.slice(index, end + 1);
			inWord = true;
			index = end;
			continue;
		}

		if (char === '#' && !inWord) {
			while (index < script.length && script[index] !== '\n') {
				index++;
			}

			tokens.push('\n');
			continue;
		}

		if (char === ' ' || char === '\t' || char === '\n' || char === ';' || char === '&' || char === '|') {
			if (inWord) {
				tokens.push(current);
				current = '';
				inWord = false;
			}

			if (char === '\n' || char === ';') {
				tokens.push(';');
			} else if ((char === '&' || char === '|') && script[index + 1] === char) {
				tokens.push(char + char);
				index++;
			} else if (char === '|') {
				tokens.push('|');
			}

			continue;
		}

		if (char === '\\' && index + 1 < script.length) {
			current += script.slice(index, index + 2);
			index++;
			inWord = true;
			continue;
		}

		current += char;
		inWord = true;
	}

	if (inWord) {
		tokens.push(current);
	}

	return tokens;
}

function findClosing(script: string, start: number, quote: string): number {
	for (let index = start + 1; index < script.length; index++) {
		if (quote === '"' && script[index] === '\\') {
			index++;
			continue;
		}

		if (script[index] === quote) {
			return index;
		}
	}

	throw new SyntaxError(`sh: unterminated ${quote === '"' ? 'double' : 'single'} quote`);
}

function parse(script: string): Node[] {
	const tokens = tokenize(script);
	let position = 0;
	const parseList = (terminators: string[]): Node[] => {
		const nodes: Node[] = [];
		while (position < tokens.length) {
			const token = tokens[position]!;
			if (token === ';') {
				position++;
				continue;
			}

			if (terminators.includes(token)) {
				return nodes;
			}

			nodes.push(parseAndOr());
		}

		if (terminators.length > 0) {
			throw new SyntaxError(`sh: syntax error: missing '${terminators[0]}'`);
		}

		return nodes;
	};

	const parseCommand = (): Node => {
		if (tokens[position] === 'for') {
			position++;
			const variable = tokens[position++] ?? '';
			if (tokens[position] !== 'in') {
				throw new SyntaxError('sh: syntax error: for without in');
			}

			position++;
			const words: string[] = [];
			while (position < tokens.length && tokens[position] !== ';' && tokens[position] !== 'do') {
				words.push(tokens[position++]!);
			}

			while (tokens[position] === ';') {
				position++;
			}

			if (tokens[position] !== 'do') {
				throw new SyntaxError('sh: syntax error: for without do');
			}

			position++;
			const body = parseList(['done']);
			position++;
			return {type: 'for', variable, words, body};
		}

		const words: string[] = [];
		while (position < tokens.length && ![';', '&&', '||', 'done', '|'].includes(tokens[position]!)) {
			words.push(tokens[position++]!);
		}

		if (tokens[position] === '|') {
			throw new SyntaxError('sh: pipelines are not simulated in the drill world');
		}

		return {type: 'simple', words};
	};

	const parseAndOr = (): Node => {
		let left = parseCommand();
		while (tokens[position] === '&&' || tokens[position] === '||') {
			const operator = tokens[position++] === '&&' ? 'and' : 'or';
			while (tokens[position] === ';') {
				position++;
			}

			left = {type: operator, left, right: parseCommand()};
		}

		return left;
	};

	return parseList([]);
}

class Shell {
	readonly #runtime: McRuntime;
	readonly #variables: Record<string, string>;
	readonly #aliases = new Map<string, Alias>();
	#errexit = false;
	#nounset = false;
	#xtrace = false;

	constructor(runtime: McRuntime) {
		this.#runtime = runtime;
		this.#variables = {...runtime.env};
	}

	async run(nodes: Node[]): Promise<number> {
		let status = 0;
		for (const node of nodes) {
			// eslint-disable-next-line no-await-in-loop
			status = await this.#node(node);
			if (status !== 0 && this.#errexit && node.type !== 'or') {
				throw new ExitError(status);
			}
		}

		return status;
	}

	async #node(node: Node): Promise<number> {
		this.#runtime.signal?.throwIfAborted();
		if (node.type === 'simple') {
			return this.runCommand(node.words.flatMap(word => this.#expand(word)));
		}

		if (node.type !== 'for') {
			const left = await this.#node(node.left);
			if (node.type === 'and') {
				return left === 0 ? this.#node(node.right) : left;
			}

			return left === 0 ? 0 : this.#node(node.right);
		}

		let status = 0;
		for (const value of node.words.flatMap(word => this.#expand(word))) {
			this.#variables[node.variable] = value;
			// eslint-disable-next-line no-await-in-loop
			status = await this.run(node.body);
		}

		return status;
	}

	#expand(word: string): string[] {
		let out = '';
		let quoted = false;
		for (let index = 0; index < word.length; index++) {
			const char = word[index]!;
			if (char === '\'') {
				const end = word.indexOf('\'', index + 1);
				out += word.slice(index + 1, end);
				index = end;
				quoted = true;
			} else if (char === '"') {
				const end = findClosing(word, index, '"');
				out += this.#substitute(word.slice(index + 1, end).replaceAll(/\\(["\\$`])/g, '$1'));
				index = end;
				quoted = true;
			} else if (char === '\\') {
				out += word[index + 1] ?? '';
				index++;
			} else if (char === '$') {
				const match = /^\$(\{[A-Za-z_]\w*\}|[A-Za-z_]\w*)/.exec(word.slice(index));
				if (match) {
					out += this.#variable(match[1]!.replaceAll(/[{}]/g, ''));
					index += match[0].length - 1;
				} else {
					out += char;
				}
			} else {
				out += char;
			}
		}

		if (!quoted && out === '') {
			return [];
		}

		return quoted ? [out] : out.split(/\s+/).filter(Boolean);
	}

	#substitute(text: string): string {
		return text.replaceAll(/\$(\{[A-Za-z_]\w*\}|[A-Za-z_]\w*)/g, (_match, name: string) => this.#variable(name.replaceAll(/[{}]/g, '')));
	}

	#variable(name: string): string {
		const value = this.#variables[name];
		if (value === undefined && this.#nounset) {
			this.#runtime.log(`sh: ${name}: parameter not set`);
			throw new ExitError(2);
		}

		return value ?? '';
	}

	async runCommand(words: string[]): Promise<number> {
		if (words.length === 0) {
			return 0;
		}

		const assignment = /^([A-Za-z_]\w*)=(.*)$/s;
		while (words.length > 0 && assignment.test(words[0]!)) {
			const [, name, value] = assignment.exec(words.shift()!)!;
			this.#variables[name!] = value!;
		}

		if (words.length === 0) {
			return 0;
		}

		if (this.#xtrace) {
			this.#runtime.log(`+ ${words.map(word => word.includes('SECRET') ? '***' : word).join(' ')}`);
		}

		const [name, ...args] = words;
		switch (name) {
			case 'set': {
				for (const flag of args) {
					if (flag.startsWith('-') && flag !== '-o') {
						this.#errexit ||= flag.includes('e');
						this.#nounset ||= flag.includes('u');
						this.#xtrace ||= flag.includes('x');
					}
				}

				return 0;
			}

			case 'export': {
				for (const item of args) {
					const match = assignment.exec(item);
					if (match) {
						this.#variables[match[1]!] = match[2]!;
					}
				}

				return 0;
			}

			case 'echo': {
				this.#runtime.log(args.join(' '));
				return 0;
			}

			case 'true':
			case ':':
			case 'sleep': {
				return 0;
			}

			case 'false': {
				return 1;
			}

			case 'exit': {
				throw new ExitError(Number(args[0] ?? 0));
			}

			case 'mc':
			case '/usr/bin/mc': {
				return this.#mc(args);
			}

			default: {
				this.#runtime.log(`sh: ${name}: not found`);
				return 127;
			}
		}
	}

	#alias(name: string): Alias | undefined {
		const known = this.#aliases.get(name);
		if (known) {
			return known;
		}

		const fromEnv = this.#variables[`MC_HOST_${name}`];
		if (fromEnv) {
			const url = new URL(fromEnv);
			const alias = {url: `${url.protocol}//${url.host}`, accessKey: decodeURIComponent(url.username), secretKey: decodeURIComponent(url.password)};
			return alias;
		}

		return undefined;
	}

	#client(alias: Alias): S3Client {
		return drillS3Client(this.#runtime.resolveUrl(alias.url), alias.accessKey, alias.secretKey);
	}

	/** `alias/bucket/prefix` -> parts, or an error line. */
	#target(path: string): {alias: Alias; name: string; bucket: string; prefix: string} | string {
		const [name = '', bucket = '', ...rest] = path.replace(/\/+$/, '').split('/');
		const alias = this.#alias(name);
		if (!alias) {
			return `mc: <ERROR> Unable to resolve alias \`${name}\`. Use \`mc alias set\` to configure it.`;
		}

		const prefix = rest.join('/');
		return {alias, name, bucket, prefix: prefix ? `${prefix}/` : ''};
	}

	async #mc(rawArgs: string[]): Promise<number> {
		const global = new Set(['--quiet', '-q', '--json', '--no-color', '--insecure', '--disable-pager']);
		const args = rawArgs.filter(argument => !global.has(argument));
		const [sub, ...rest] = args;
		const log = this.#runtime.log;
		try {
			if ((sub === 'alias' && rest[0] === 'set') || (sub === 'config' && rest[0] === 'host' && rest[1] === 'add')) {
				const values = (sub === 'alias' ? rest.slice(1) : rest.slice(2)).filter(argument => !argument.startsWith('--'));
				const [name, url, accessKey = '', secretKey = ''] = values;
				if (!name || !url) {
					log('mc: <ERROR> Incorrect number of arguments for alias set command.');
					return 1;
				}

				this.#aliases.set(name, {url, accessKey, secretKey});
				log(`Added \`${name}\` successfully.`);
				return 0;
			}

			if (sub === 'ready') {
				const target = this.#target(rest[0] ?? '');
				if (typeof target === 'string') {
					log(target);
					return 1;
				}

				await this.#client(target.alias).send(new ListBucketsCommand({}));
				log(`The cluster '${target.name}' is ready`);
				return 0;
			}

			if (sub === 'mb') {
				const ignoreExisting = rest.includes('--ignore-existing') || rest.includes('-p');
				const paths = rest.filter(argument => !argument.startsWith('-'));
				let status = 0;
				for (const path of paths) {
					const target = this.#target(path);
					if (typeof target === 'string') {
						log(target);
						status = 1;
						continue;
					}

					const client = this.#client(target.alias);
					// eslint-disable-next-line no-await-in-loop
					const exists = await client.send(new HeadBucketCommand({Bucket: target.bucket})).then(() => true, (error: unknown) => {
						if (httpStatus(error) === 404) {
							return false;
						}

						throw error;
					});
					if (exists) {
						if (ignoreExisting) {
							log(`Bucket created successfully \`${path}\`.`);
							continue;
						}

						log(`mc: <ERROR> Unable to make bucket \`${path}\`. Your previous request to create the named bucket succeeded and you already own it.`);
						status = 1;
						continue;
					}

					// eslint-disable-next-line no-await-in-loop
					await client.send(new CreateBucketCommand({Bucket: target.bucket}));
					log(`Bucket created successfully \`${path}\`.`);
				}

				return status;
			}

			if (sub === 'ls') {
				const target = this.#target(rest.find(argument => !argument.startsWith('-')) ?? '');
				if (typeof target === 'string') {
					log(target);
					return 1;
				}

				const client = this.#client(target.alias);
				if (!target.bucket) {
					const buckets = await client.send(new ListBucketsCommand({}));
					for (const bucket of buckets.Buckets ?? []) {
						log(`[${bucket.CreationDate?.toISOString()}]     0B ${bucket.Name}/`);
					}

					return 0;
				}

				const page = await client.send(new ListObjectsV2Command({Bucket: target.bucket, Prefix: target.prefix || undefined, Delimiter: '/'}));
				for (const item of page.CommonPrefixes ?? []) {
					log(`                          0B ${item.Prefix!.slice(target.prefix.length)}`);
				}

				for (const item of page.Contents ?? []) {
					log(`[${item.LastModified?.toISOString()}] ${String(item.Size).padStart(6)}B ${item.Key!.slice(target.prefix.length)}`);
				}

				return 0;
			}

			if (sub === 'rm') {
				const recursive = rest.includes('--recursive') || rest.includes('-r');
				const force = rest.includes('--force');
				const paths = rest.filter(argument => !argument.startsWith('-'));
				if (paths.length === 0) {
					log('mc: <ERROR> Invalid number of arguments for rm command.');
					return 1;
				}

				let removed = 0;
				for (const path of paths) {
					const target = this.#target(path);
					if (typeof target === 'string') {
						log(target);
						return 1;
					}

					const client = this.#client(target.alias);
					const keys: string[] = [];
					if (recursive) {
						if (!force) {
							log('mc: <ERROR> Removal requires --force flag. This operation is *IRREVERSIBLE*. Please review carefully before performing this *DANGEROUS* operation.');
							return 1;
						}

						let token: string | undefined;
						do {
							// eslint-disable-next-line no-await-in-loop
							const page = await client.send(new ListObjectsV2Command({Bucket: target.bucket, Prefix: target.prefix || undefined, ContinuationToken: token}));
							keys.push(...(page.Contents ?? []).map(item => item.Key!));
							token = page.IsTruncated ? page.NextContinuationToken : undefined;
						} while (token);
					} else {
						keys.push(target.prefix.replace(/\/$/, ''));
					}

					for (let index = 0; index < keys.length; index += 1000) {
						const batch = keys.slice(index, index + 1000);
						// eslint-disable-next-line no-await-in-loop
						await client.send(new DeleteObjectsCommand({Bucket: target.bucket, Delete: {Objects: batch.map(Key => ({Key})), Quiet: true}}));
						for (const key of batch) {
							log(`Removed \`${target.name}/${target.bucket}/${key}\`.`);
						}

						removed += batch.length;
					}
				}

				return removed >= 0 ? 0 : 1;
			}

			if (sub === 'mirror') {
				const flags = new Set(rest.filter(argument => argument.startsWith('-')));
				const known = new Set(['--preserve', '-a', '--remove', '--overwrite', '--dry-run', '--retry', '--md5', '--disable-multipart']);
				const unknown = [...flags].filter(flag => !known.has(flag) && !flag.startsWith('--limit') && !flag.startsWith('--max-workers'));
				if (unknown.length > 0) {
					log(`mc: <ERROR> flag provided but not defined: ${unknown[0]}`);
					return 1;
				}

				const paths = rest.filter(argument => !argument.startsWith('-'));
				if (paths.length !== 2) {
					log('mc: <ERROR> Invalid number of arguments for mirror command.');
					return 1;
				}

				const source = this.#target(paths[0]!);
				const target = this.#target(paths[1]!);
				for (const side of [source, target]) {
					if (typeof side === 'string') {
						log(side);
						return 1;
					}
				}

				const from = source as Exclude<typeof source, string>;
				const to = target as Exclude<typeof target, string>;
				const started = Date.now();
				const result = await mcMirror(
					{client: this.#client(from.alias), bucket: from.bucket, prefix: from.prefix, label: paths[0]!.replace(/\/+$/, '')},
					{client: this.#client(to.alias), bucket: to.bucket, prefix: to.prefix, label: paths[1]!.replace(/\/+$/, '')},
					{
						preserve: flags.has('--preserve') || flags.has('-a'),
						remove: flags.has('--remove'),
						overwrite: flags.has('--overwrite'),
						dryRun: flags.has('--dry-run'),
						signal: this.#runtime.signal,
						log,
					},
				);
				for (const error of [...result.notOverwritten, ...result.errors]) {
					log(`mc: <ERROR> ${error}`);
				}

				const seconds = Math.max(0.001, (Date.now() - started) / 1000);
				log(`Total: ${formatBytes(result.bytes)}, Transferred: ${formatBytes(result.bytes)}, Speed: ${formatBytes(result.bytes / seconds)}/s (copied ${result.copied}, removed ${result.removed}, unchanged ${result.unchanged})`);
				return result.errors.length > 0 ? 1 : 0;
			}

			log(`mc: <ERROR> \`${sub ?? ''}\` is not a recognized command (drill world: alias, mb, ls, mirror, rm, ready).`);
			return 1;
		} catch (error) {
			if (this.#runtime.signal?.aborted) {
				throw error;
			}

			log(`mc: <ERROR> ${describe(error)}`);
			return 1;
		}
	}
}

function formatBytes(bytes: number): string {
	const units = ['B', 'KiB', 'MiB', 'GiB'];
	let value = bytes;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit++;
	}

	return `${value.toFixed(unit === 0 ? 0 : 2)} ${units[unit]}`;
}
