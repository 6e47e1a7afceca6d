import type {Command} from './command.js';
import {bucketsExportCommand, bucketsImportCommand} from './buckets.js';
import {doctorCommand} from './doctor.js';
import {rbacCommand} from './rbac.js';
import {mirrorInstallCommand, mirrorRunCommand} from './mirror-setup.js';
import {snapshotClassCreateCommand, snapshotCreateCommand, snapshotScheduleInstallCommand} from './snapshot.js';
import {drillListCommand, drillRunCommand} from './drill-run.js';
import {drillServeCommand} from './drill-serve.js';
import {historyCommand} from './history.js';
import {inventoryCommand} from './inventory.js';
import {restoreTableCommand} from './restore-table.js';
import {restoreMirror} from './restore-mirror.js';
import {restoreVolumeCommand} from './restore-volume.js';

/**
Every subcommand, in the order `--help` lists them. Adding one is a file and a line here.
*/
export const commands: readonly Command[] = [
	inventoryCommand,
	historyCommand,
	restoreTableCommand,
	restoreMirror,
	restoreVolumeCommand,
	doctorCommand,
	snapshotCreateCommand,
	snapshotClassCreateCommand,
	snapshotScheduleInstallCommand,
	mirrorInstallCommand,
	mirrorRunCommand,
	bucketsExportCommand,
	bucketsImportCommand,
	rbacCommand,
	drillServeCommand,
	drillListCommand,
	drillRunCommand,
];
