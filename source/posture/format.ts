/** The posture as text: what `doctor` prints and the console's Posture screen shows. */
import {formatDuration, type Posture} from './assess.js';

const statusWord = {ok: 'ok', gap: 'GAP', unknown: '?'} as const;
const layerTitle = {volumes: 'PV snapshots', mirror: 'Off-cluster mirror', tables: 'Table history', uncovered: 'Not covered by any layer'} as const;

/** The readable report (without --json). */
export function postureLines(posture: Posture): string[] {
	const lines = [`Protection posture (objective: lose at most ${posture.objective.rpo}, tables restorable ${posture.objective.keep} back)`, ''];
	for (const layer of posture.layers) {
		const figures = [
			layer.rpoMs === undefined ? undefined : `RPO today ${formatDuration(layer.rpoMs)}`,
			layer.layer === 'volumes' || layer.layer === 'mirror' ? (layer.rtoMs === undefined ? `RTO ${layer.rtoBasis ?? 'unknown'}` : `RTO ~${formatDuration(layer.rtoMs)} (${layer.rtoBasis})`) : undefined,
		].filter(Boolean).join('; ');
		lines.push(`${statusWord[layer.status].padEnd(3)} ${layerTitle[layer.layer]}${figures ? `: ${figures}` : ''}`);
		for (const finding of layer.findings) {
			lines.push(`      ${finding}`);
		}

		for (const gap of layer.gaps) {
			lines.push(`    - ${gap.title}`, `      fix: ${gap.fix}`);
		}

		for (const item of layer.uncovered ?? []) {
			lines.push(`    * ${item.item}`, `      capture: ${item.capture}`);
		}

		lines.push('');
	}

	lines.push(posture.ok ? 'Every layer meets the objective.' : `${posture.gaps.length} gap${posture.gaps.length === 1 ? '' : 's'}: run the fixes above (each takes --dry-run first).`);
	return lines;
}

export const formatPosture = (posture: Posture): string => postureLines(posture).join('\n') + '\n';

