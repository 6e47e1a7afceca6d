import React, {useEffect, useState} from 'react';
import {Box, Text, useInput, useWindowSize} from 'ink';
import Spinner from 'ink-spinner';
import type {LayerSources} from '../layers/inventory.js';
import {assessPosture, type Objective} from '../posture/assess.js';
import {postureLines} from '../posture/format.js';
import {gatherPosture} from '../posture/gather.js';
import {resolveStateDir} from '../restore/state-dir.js';
import type {ItemAction} from './actions.js';

export const defaultObjective: Objective = {rpoMs: 24 * 3_600_000, keepMs: 7 * 86_400_000};

type Props = {
	readonly sources: LayerSources;
	readonly objective?: Objective;
	readonly onClose: () => void;
	/** Tests give the measurement; the console measures the live cluster. */
	readonly measure?: () => Promise<string[]>;
};

const tone = (line: string) => line.startsWith('GAP') ? 'red' : (line.startsWith('ok ') ? 'green' : (line.startsWith('    - ') ? 'yellow' : (/^\s+(fix|capture):/.test(line) ? 'cyan' : undefined)));

/**
The Posture screen (`p` from home): `doctor` on the live cluster, the same lines, scrollable.
Measures once when opened; Esc or q goes back.
*/
export function PostureScreen(props: Props) {
	const {rows, columns} = useWindowSize();
	const [lines, setLines] = useState<string[] | undefined>();
	const [error, setError] = useState<string | undefined>();
	const [scroll, setScroll] = useState(0);
	useEffect(() => {
		let live = true;
		const measure = props.measure ?? (async () => postureLines(assessPosture(await gatherPosture(props.sources, {stateDir: resolveStateDir()}), props.objective ?? defaultObjective)));
		measure().then(result => {
			if (live) {
				setLines(result);
			}
		}, (error_: unknown) => {
			if (live) {
				setError(error_ instanceof Error ? error_.message.split('\n')[0] : String(error_));
			}
		});
		return () => {
			live = false;
		};
	}, []);
	const height = Math.max(3, rows - 4);
	useInput((input, key) => {
		if (key.escape || input === 'q') {
			props.onClose();
		} else if (key.downArrow || input === 'j') {
			setScroll(value => Math.min(Math.max(0, (lines?.length ?? 0) - height), value + 1));
		} else if (key.upArrow || input === 'k') {
			setScroll(value => Math.max(0, value - 1));
		} else if (key.pageDown || input === ' ') {
			setScroll(value => Math.min(Math.max(0, (lines?.length ?? 0) - height), value + height));
		} else if (key.pageUp) {
			setScroll(value => Math.max(0, value - height));
		}
	});
	return (
		<Box flexDirection='column' width={columns}>
			<Text bold>Posture · what each layer protects today · Esc back · ↑/↓ scroll · fixes: ilum-restore doctor</Text>
			<Box flexDirection='column' borderStyle='round' borderColor='cyan' height={height + 2}>
				{error === undefined && lines === undefined ? <Text><Spinner type='dots'/> measuring the layers (snapshots, mirror runs and drift, table histories, bucket settings)…</Text> : undefined}
				{error === undefined ? undefined : <Text color='red'>The posture could not be measured: {error}</Text>}
				{(lines ?? []).slice(scroll, scroll + height).map((line, index) => <Text key={index} color={tone(line)} wrap='truncate-end'>{line || ' '}</Text>)}
			</Box>
		</Box>
	);
}

/** `p` in any pane: opens the Posture screen. Reads only. */
export const postureAction: ItemAction = {
	id: 'posture',
	keys: ['p'],
	label: 'p',
	description: 'Posture: what each layer protects against the objective (24 h, 7 d), each gap with its fix',
	panes: ['volumes', 'mirrors', 'tables'],
	changes: false,
	dangerous: false,
	disabledReason: (_item, context) => context.openScreen ? undefined : 'not available here',
	run(_item, context) {
		const handle = context.openScreen?.(<PostureScreen sources={context.live.sources} onClose={() => handle?.close()}/>);
	},
};
