/**
Protobuf request bodies, as kubectl 1.32+ sends them for writes made through typed clients
(`create secret`, `create configmap`, `create job [--from=cronjob/X]`, `create namespace`,
`create cronjob`, `create service`, `create serviceaccount|role|rolebinding`, `auth can-i`):

    "k8s\0" + runtime.Unknown {1: TypeMeta {1: apiVersion, 2: kind}, 2: raw object bytes, 3: contentEncoding, 4: contentType}

The object bytes follow the `generated.proto` schemas of k8s.io/api and k8s.io/apimachinery. The
field tables below are written from those schemas (field numbers are the wire format) for the
kinds above and what they contain; protobufjs' `Reader` does the wire decoding. The result is
the object as the API server would hold it in JSON: zero values of plain Go fields are dropped
(`omitempty`), optional (pointer) fields are kept even when zero, embedded structs are inlined.
Fields not in the tables are skipped and reported (the server turns them into a `Warning`
header, so a gap in the tables shows). A kind without a table is a 415.
*/
import protobuf from 'protobufjs';
import {ApiError} from './api-error.js';
import type {ResourceTable} from './resources.js';

export const protobufContentType = 'application/vnd.kubernetes.protobuf';

type Scalar = 'string' | 'bytes' | 'int32' | 'int64' | 'bool' | 'time' | 'quantity' | 'intorstring';
type FieldType = Scalar | {message: string} | {map: Scalar | {message: string}};

type Field = {
	number: number;
	name: string;
	type: FieldType;
	repeated?: boolean;
	/** A Go pointer (or required) field: kept even when zero. */
	keep?: boolean;
	/** A Go embedded struct: its fields go to the parent. */
	inline?: boolean;
};

function f(number: number, name: string, type: FieldType, flags: string = ''): Field {
	const field: Field = {number, name, type};
	if (flags.includes('r')) {
		field.repeated = true;
	}

	if (flags.includes('k')) {
		field.keep = true;
	}

	if (flags.includes('i')) {
		field.inline = true;
	}

	return field;
}

const m = (message: string) => ({message});

const messages: Record<string, Field[]> = {
	Unknown: [f(1, 'typeMeta', m('TypeMeta')), f(2, 'raw', 'bytes'), f(3, 'contentEncoding', 'string'), f(4, 'contentType', 'string')],
	TypeMeta: [f(1, 'apiVersion', 'string'), f(2, 'kind', 'string')],
	ObjectMeta: [
		f(1, 'name', 'string'), f(2, 'generateName', 'string'), f(3, 'namespace', 'string'), f(4, 'selfLink', 'string'), f(5, 'uid', 'string'),
		f(6, 'resourceVersion', 'string'), f(7, 'generation', 'int64'), f(8, 'creationTimestamp', 'time'), f(9, 'deletionTimestamp', 'time'),
		f(10, 'deletionGracePeriodSeconds', 'int64', 'k'), f(11, 'labels', {map: 'string'}), f(12, 'annotations', {map: 'string'}),
		f(13, 'ownerReferences', m('OwnerReference'), 'r'), f(14, 'finalizers', 'string', 'r'),
	],
	OwnerReference: [f(1, 'kind', 'string'), f(3, 'name', 'string'), f(4, 'uid', 'string'), f(5, 'apiVersion', 'string'), f(6, 'controller', 'bool', 'k'), f(7, 'blockOwnerDeletion', 'bool', 'k')],
	LabelSelector: [f(1, 'matchLabels', {map: 'string'}), f(2, 'matchExpressions', m('LabelSelectorRequirement'), 'r')],
	LabelSelectorRequirement: [f(1, 'key', 'string'), f(2, 'operator', 'string'), f(3, 'values', 'string', 'r')],

	// core/v1
	Namespace: [f(1, 'metadata', m('ObjectMeta')), f(2, 'spec', m('NamespaceSpec')), f(3, 'status', m('Empty'))],
	NamespaceSpec: [f(1, 'finalizers', 'string', 'r')],
	Secret: [f(1, 'metadata', m('ObjectMeta')), f(2, 'data', {map: 'bytes'}), f(3, 'type', 'string'), f(4, 'stringData', {map: 'string'}), f(5, 'immutable', 'bool', 'k')],
	ConfigMap: [f(1, 'metadata', m('ObjectMeta')), f(2, 'data', {map: 'string'}), f(3, 'binaryData', {map: 'bytes'}), f(4, 'immutable', 'bool', 'k')],
	Service: [f(1, 'metadata', m('ObjectMeta')), f(2, 'spec', m('ServiceSpec')), f(3, 'status', m('Empty'))],
	ServiceSpec: [
		f(1, 'ports', m('ServicePort'), 'r'), f(2, 'selector', {map: 'string'}), f(3, 'clusterIP', 'string'), f(4, 'type', 'string'), f(5, 'externalIPs', 'string', 'r'),
		f(7, 'sessionAffinity', 'string'), f(8, 'loadBalancerIP', 'string'), f(9, 'loadBalancerSourceRanges', 'string', 'r'), f(10, 'externalName', 'string'),
		f(11, 'externalTrafficPolicy', 'string'), f(12, 'healthCheckNodePort', 'int32'), f(13, 'publishNotReadyAddresses', 'bool'), f(18, 'clusterIPs', 'string', 'r'),
		f(19, 'ipFamilies', 'string', 'r'), f(20, 'ipFamilyPolicy', 'string', 'k'), f(21, 'allocateLoadBalancerNodePorts', 'bool', 'k'), f(22, 'loadBalancerClass', 'string', 'k'), f(23, 'internalTrafficPolicy', 'string', 'k'),
	],
	ServicePort: [f(1, 'name', 'string'), f(2, 'protocol', 'string'), f(3, 'port', 'int32', 'k'), f(4, 'targetPort', 'intorstring'), f(5, 'nodePort', 'int32'), f(6, 'appProtocol', 'string', 'k')],
	PodTemplateSpec: [f(1, 'metadata', m('ObjectMeta')), f(2, 'spec', m('PodSpec'))],
	PodSpec: [
		f(1, 'volumes', m('Volume'), 'r'), f(2, 'containers', m('Container'), 'r'), f(3, 'restartPolicy', 'string'), f(4, 'terminationGracePeriodSeconds', 'int64', 'k'),
		f(5, 'activeDeadlineSeconds', 'int64', 'k'), f(6, 'dnsPolicy', 'string'), f(7, 'nodeSelector', {map: 'string'}), f(8, 'serviceAccountName', 'string'), f(9, 'serviceAccount', 'string'),
		f(10, 'nodeName', 'string'), f(11, 'hostNetwork', 'bool'), f(12, 'hostPID', 'bool'), f(13, 'hostIPC', 'bool'), f(14, 'securityContext', m('PodSecurityContext')),
		f(15, 'imagePullSecrets', m('LocalObjectReference'), 'r'), f(16, 'hostname', 'string'), f(17, 'subdomain', 'string'), f(19, 'schedulerName', 'string'),
		f(20, 'initContainers', m('Container'), 'r'), f(21, 'automountServiceAccountToken', 'bool', 'k'), f(22, 'tolerations', m('Toleration'), 'r'), f(24, 'priorityClassName', 'string'),
		f(25, 'priority', 'int32', 'k'), f(27, 'shareProcessNamespace', 'bool', 'k'), f(29, 'runtimeClassName', 'string', 'k'), f(30, 'enableServiceLinks', 'bool', 'k'), f(31, 'preemptionPolicy', 'string', 'k'),
		f(35, 'setHostnameAsFQDN', 'bool', 'k'), f(37, 'hostUsers', 'bool', 'k'),
	],
	PodSecurityContext: [f(10, 'seccompProfile', m('SeccompProfile')), f(2, 'runAsUser', 'int64', 'k'), f(3, 'runAsNonRoot', 'bool', 'k'), f(4, 'supplementalGroups', 'int64', 'r'), f(5, 'fsGroup', 'int64', 'k'), f(6, 'runAsGroup', 'int64', 'k'), f(9, 'fsGroupChangePolicy', 'string', 'k')],
	Toleration: [f(1, 'key', 'string'), f(2, 'operator', 'string'), f(3, 'value', 'string'), f(4, 'effect', 'string'), f(5, 'tolerationSeconds', 'int64', 'k')],
	LocalObjectReference: [f(1, 'name', 'string')],
	Container: [
		f(1, 'name', 'string', 'k'), f(2, 'image', 'string'), f(3, 'command', 'string', 'r'), f(4, 'args', 'string', 'r'), f(5, 'workingDir', 'string'), f(6, 'ports', m('ContainerPort'), 'r'),
		f(7, 'env', m('EnvVar'), 'r'), f(8, 'resources', m('ResourceRequirements'), 'k'), f(9, 'volumeMounts', m('VolumeMount'), 'r'), f(10, 'livenessProbe', m('Probe')), f(11, 'readinessProbe', m('Probe')),
		f(22, 'startupProbe', m('Probe')), f(13, 'terminationMessagePath', 'string'),
		f(14, 'imagePullPolicy', 'string'), f(15, 'securityContext', m('SecurityContext')), f(16, 'stdin', 'bool'), f(17, 'stdinOnce', 'bool'), f(18, 'tty', 'bool'), f(19, 'envFrom', m('EnvFromSource'), 'r'),
		f(20, 'terminationMessagePolicy', 'string'), f(24, 'restartPolicy', 'string', 'k'),
	],
	SeccompProfile: [f(1, 'type', 'string', 'k'), f(2, 'localhostProfile', 'string', 'k')],
	Capabilities: [f(1, 'add', 'string', 'r'), f(2, 'drop', 'string', 'r')],
	Probe: [f(1, 'handler', m('ProbeHandler'), 'i'), f(2, 'initialDelaySeconds', 'int32'), f(3, 'timeoutSeconds', 'int32'), f(4, 'periodSeconds', 'int32'), f(5, 'successThreshold', 'int32'), f(6, 'failureThreshold', 'int32'), f(7, 'terminationGracePeriodSeconds', 'int64', 'k')],
	ProbeHandler: [f(1, 'exec', m('ExecAction')), f(2, 'httpGet', m('HTTPGetAction')), f(3, 'tcpSocket', m('TCPSocketAction'))],
	ExecAction: [f(1, 'command', 'string', 'r')],
	HTTPGetAction: [f(1, 'path', 'string'), f(2, 'port', 'intorstring', 'k'), f(3, 'host', 'string'), f(4, 'scheme', 'string')],
	TCPSocketAction: [f(1, 'port', 'intorstring', 'k'), f(2, 'host', 'string')],
	SecurityContext: [f(1, 'capabilities', m('Capabilities')), f(11, 'seccompProfile', m('SeccompProfile')), f(2, 'privileged', 'bool', 'k'), f(4, 'runAsUser', 'int64', 'k'), f(5, 'runAsNonRoot', 'bool', 'k'), f(6, 'readOnlyRootFilesystem', 'bool', 'k'), f(7, 'allowPrivilegeEscalation', 'bool', 'k'), f(8, 'runAsGroup', 'int64', 'k')],
	ContainerPort: [f(1, 'name', 'string'), f(2, 'hostPort', 'int32'), f(3, 'containerPort', 'int32', 'k'), f(4, 'protocol', 'string'), f(5, 'hostIP', 'string')],
	EnvVar: [f(1, 'name', 'string', 'k'), f(2, 'value', 'string'), f(3, 'valueFrom', m('EnvVarSource'))],
	EnvVarSource: [f(1, 'fieldRef', m('ObjectFieldSelector')), f(2, 'resourceFieldRef', m('ResourceFieldSelector')), f(3, 'configMapKeyRef', m('KeySelector')), f(4, 'secretKeyRef', m('KeySelector'))],
	ObjectFieldSelector: [f(1, 'apiVersion', 'string'), f(2, 'fieldPath', 'string', 'k')],
	ResourceFieldSelector: [f(1, 'containerName', 'string'), f(2, 'resource', 'string', 'k'), f(3, 'divisor', 'quantity')],
	KeySelector: [f(1, 'localObjectReference', m('LocalObjectReference'), 'i'), f(2, 'key', 'string', 'k'), f(3, 'optional', 'bool', 'k')],
	EnvFromSource: [f(1, 'prefix', 'string'), f(2, 'configMapRef', m('EnvSource')), f(3, 'secretRef', m('EnvSource'))],
	EnvSource: [f(1, 'localObjectReference', m('LocalObjectReference'), 'i'), f(2, 'optional', 'bool', 'k')],
	ResourceRequirements: [f(1, 'limits', {map: 'quantity'}), f(2, 'requests', {map: 'quantity'})],
	VolumeMount: [f(1, 'name', 'string', 'k'), f(2, 'readOnly', 'bool'), f(3, 'mountPath', 'string', 'k'), f(4, 'subPath', 'string'), f(5, 'mountPropagation', 'string', 'k'), f(6, 'subPathExpr', 'string')],
	Volume: [f(1, 'name', 'string', 'k'), f(2, 'volumeSource', m('VolumeSource'), 'i')],
	VolumeSource: [
		f(1, 'hostPath', m('HostPathVolumeSource')), f(2, 'emptyDir', m('EmptyDirVolumeSource')), f(6, 'secret', m('SecretVolumeSource')),
		f(10, 'persistentVolumeClaim', m('PersistentVolumeClaimVolumeSource')), f(19, 'configMap', m('ConfigMapVolumeSource')),
	],
	HostPathVolumeSource: [f(1, 'path', 'string', 'k'), f(2, 'type', 'string', 'k')],
	EmptyDirVolumeSource: [f(1, 'medium', 'string'), f(2, 'sizeLimit', 'quantity', 'k')],
	SecretVolumeSource: [f(1, 'secretName', 'string'), f(2, 'items', m('KeyToPath'), 'r'), f(3, 'defaultMode', 'int32', 'k'), f(4, 'optional', 'bool', 'k')],
	ConfigMapVolumeSource: [f(1, 'localObjectReference', m('LocalObjectReference'), 'i'), f(2, 'items', m('KeyToPath'), 'r'), f(3, 'defaultMode', 'int32', 'k'), f(4, 'optional', 'bool', 'k')],
	KeyToPath: [f(1, 'key', 'string', 'k'), f(2, 'path', 'string', 'k'), f(3, 'mode', 'int32', 'k')],
	PersistentVolumeClaimVolumeSource: [f(1, 'claimName', 'string', 'k'), f(2, 'readOnly', 'bool')],

	// batch/v1
	Job: [f(1, 'metadata', m('ObjectMeta')), f(2, 'spec', m('JobSpec')), f(3, 'status', m('Empty'))],
	JobSpec: [
		f(1, 'parallelism', 'int32', 'k'), f(2, 'completions', 'int32', 'k'), f(3, 'activeDeadlineSeconds', 'int64', 'k'), f(4, 'selector', m('LabelSelector')),
		f(5, 'manualSelector', 'bool', 'k'), f(6, 'template', m('PodTemplateSpec')), f(7, 'backoffLimit', 'int32', 'k'), f(8, 'ttlSecondsAfterFinished', 'int32', 'k'),
		f(9, 'completionMode', 'string', 'k'), f(10, 'suspend', 'bool', 'k'), f(12, 'backoffLimitPerIndex', 'int32', 'k'), f(13, 'maxFailedIndexes', 'int32', 'k'),
		f(14, 'podReplacementPolicy', 'string', 'k'), f(15, 'managedBy', 'string', 'k'),
	],
	CronJob: [f(1, 'metadata', m('ObjectMeta')), f(2, 'spec', m('CronJobSpec')), f(3, 'status', m('Empty'))],
	CronJobSpec: [
		f(1, 'schedule', 'string', 'k'), f(2, 'startingDeadlineSeconds', 'int64', 'k'), f(3, 'concurrencyPolicy', 'string'), f(4, 'suspend', 'bool', 'k'),
		f(5, 'jobTemplate', m('JobTemplateSpec')), f(6, 'successfulJobsHistoryLimit', 'int32', 'k'), f(7, 'failedJobsHistoryLimit', 'int32', 'k'), f(8, 'timeZone', 'string', 'k'),
	],
	JobTemplateSpec: [f(1, 'metadata', m('ObjectMeta')), f(2, 'spec', m('JobSpec'))],

	// authorization.k8s.io/v1
	SelfSubjectAccessReview: [f(1, 'metadata', m('ObjectMeta')), f(2, 'spec', m('SelfSubjectAccessReviewSpec')), f(3, 'status', m('Empty'))],
	SelfSubjectAccessReviewSpec: [f(1, 'resourceAttributes', m('ResourceAttributes')), f(2, 'nonResourceAttributes', m('NonResourceAttributes'))],
	SelfSubjectRulesReview: [f(1, 'metadata', m('ObjectMeta')), f(2, 'spec', m('SelfSubjectRulesReviewSpec')), f(3, 'status', m('Empty'))],
	SelfSubjectRulesReviewSpec: [f(1, 'namespace', 'string')],
	ResourceAttributes: [f(1, 'namespace', 'string'), f(2, 'verb', 'string'), f(3, 'group', 'string'), f(4, 'version', 'string'), f(5, 'resource', 'string'), f(6, 'subresource', 'string'), f(7, 'name', 'string')],
	NonResourceAttributes: [f(1, 'path', 'string'), f(2, 'verb', 'string')],

	// core/v1 ServiceAccount, rbac.authorization.k8s.io/v1 Role and RoleBinding
	ServiceAccount: [f(1, 'metadata', m('ObjectMeta')), f(2, 'secrets', m('ObjectReference'), 'r'), f(3, 'imagePullSecrets', m('LocalObjectReference'), 'r'), f(4, 'automountServiceAccountToken', 'bool', 'k')],
	ObjectReference: [f(1, 'kind', 'string'), f(2, 'namespace', 'string'), f(3, 'name', 'string'), f(4, 'uid', 'string'), f(5, 'apiVersion', 'string'), f(6, 'resourceVersion', 'string'), f(7, 'fieldPath', 'string')],
	Role: [f(1, 'metadata', m('ObjectMeta')), f(2, 'rules', m('PolicyRule'), 'r')],
	PolicyRule: [f(1, 'verbs', 'string', 'r'), f(2, 'apiGroups', 'string', 'r'), f(3, 'resources', 'string', 'r'), f(4, 'resourceNames', 'string', 'r'), f(5, 'nonResourceURLs', 'string', 'r')],
	RoleBinding: [f(1, 'metadata', m('ObjectMeta')), f(2, 'subjects', m('Subject'), 'r'), f(3, 'roleRef', m('RoleRef'))],
	Subject: [f(1, 'kind', 'string', 'k'), f(2, 'apiGroup', 'string'), f(3, 'name', 'string', 'k'), f(4, 'namespace', 'string')],
	RoleRef: [f(1, 'apiGroup', 'string', 'k'), f(2, 'kind', 'string', 'k'), f(3, 'name', 'string', 'k')],

	Empty: [],
	MapEntry: [],
};

/** Top-level messages by apiVersion/kind. */
const kinds: Record<string, string> = {
	'v1/Namespace': 'Namespace',
	'v1/Secret': 'Secret',
	'v1/ConfigMap': 'ConfigMap',
	'v1/Service': 'Service',
	'batch/v1/Job': 'Job',
	'batch/v1/CronJob': 'CronJob',
	'authorization.k8s.io/v1/SelfSubjectAccessReview': 'SelfSubjectAccessReview',
	'authorization.k8s.io/v1/SelfSubjectRulesReview': 'SelfSubjectRulesReview',
	'v1/ServiceAccount': 'ServiceAccount',
	'rbac.authorization.k8s.io/v1/Role': 'Role',
	'rbac.authorization.k8s.io/v1/RoleBinding': 'RoleBinding',
};

class DecodeError extends Error {}

/** Fields seen on the wire that no table names (`Message.number`), for the request being decoded. */
let skipped: Set<string> | undefined;

function long(value: unknown): number {
	if (typeof value === 'number') {
		return value;
	}

	const l = value as {low: number; high: number; toNumber?: () => number};
	return typeof l.toNumber === 'function' ? l.toNumber() : (l.high * 0x1_00_00_00_00) + (l.low >>> 0);
}

function readScalar(reader: protobuf.Reader, type: Scalar): unknown {
	switch (type) {
		case 'string': {
			return reader.string();
		}

		case 'bytes': {
			return Buffer.from(reader.bytes()).toString('base64');
		}

		case 'int32': {
			return reader.int32();
		}

		case 'int64': {
			return long(reader.int64());
		}

		case 'bool': {
			return reader.bool();
		}

		case 'time': {
			const inner = protobuf.Reader.create(reader.bytes());
			let seconds = 0;
			while (inner.pos < inner.len) {
				const tag = inner.uint32();
				if (tag >>> 3 === 1) {
					seconds = long(inner.int64());
				} else {
					inner.skipType(tag & 7);
				}
			}

			return seconds === 0 ? undefined : new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
		}

		case 'quantity': {
			const inner = protobuf.Reader.create(reader.bytes());
			let text = '';
			while (inner.pos < inner.len) {
				const tag = inner.uint32();
				if (tag >>> 3 === 1) {
					text = inner.string();
				} else {
					inner.skipType(tag & 7);
				}
			}

			return text;
		}

		case 'intorstring': {
			const inner = protobuf.Reader.create(reader.bytes());
			let kind = 0;
			let intValue = 0;
			let stringValue = '';
			while (inner.pos < inner.len) {
				const tag = inner.uint32();
				switch (tag >>> 3) {
					case 1: {
						kind = long(inner.int64());
						break;
					}

					case 2: {
						intValue = inner.int32();
						break;
					}

					case 3: {
						stringValue = inner.string();
						break;
					}

					default: {
						inner.skipType(tag & 7);
					}
				}
			}

			return kind === 1 ? stringValue : intValue;
		}
	}
}

function isZero(value: unknown): boolean {
	return value === undefined || value === '' || value === 0 || value === false;
}

function readMapEntry(reader: protobuf.Reader, valueType: Scalar | {message: string}): [string, unknown] {
	const inner = protobuf.Reader.create(reader.bytes());
	let key = '';
	let value: unknown = typeof valueType === 'string' ? (valueType === 'bytes' ? '' : (valueType === 'string' || valueType === 'quantity' ? '' : 0)) : {};
	while (inner.pos < inner.len) {
		const tag = inner.uint32();
		switch (tag >>> 3) {
			case 1: {
				key = inner.string();
				break;
			}

			case 2: {
				value = typeof valueType === 'string' ? readScalar(inner, valueType) : decodeMessage(inner.bytes(), valueType.message);
				break;
			}

			default: {
				inner.skipType(tag & 7);
			}
		}
	}

	return [key, value];
}

function decodeMessage(bytes: Uint8Array, name: string): Record<string, unknown> {
	const fields = messages[name];
	if (!fields) {
		throw new DecodeError(`no table for ${name}`);
	}

	const reader = protobuf.Reader.create(bytes);
	const result: Record<string, unknown> = {};
	const present = new Set<string>();
	while (reader.pos < reader.len) {
		const tag = reader.uint32();
		const field = fields.find(candidate => candidate.number === tag >>> 3);
		if (!field) {
			if (name !== 'Empty') {
				skipped?.add(`${name}.${tag >>> 3}`);
			}

			reader.skipType(tag & 7);
			continue;
		}

		let value: unknown;
		const {type} = field;
		if (typeof type === 'object' && 'map' in type) {
			const [key, entry] = readMapEntry(reader, type.map);
			const map = (result[field.name] ?? {}) as Record<string, unknown>;
			map[key] = entry;
			result[field.name] = map;
			present.add(field.name);
			continue;
		}

		if (typeof type === 'object') {
			value = decodeMessage(reader.bytes(), type.message);
		} else if (field.repeated && (tag & 7) === 2 && ['int32', 'int64', 'bool'].includes(type)) {
			// Packed repeated scalars.
			const inner = protobuf.Reader.create(reader.bytes());
			const list = (result[field.name] ?? []) as unknown[];
			while (inner.pos < inner.len) {
				list.push(readScalar(inner, type));
			}

			result[field.name] = list;
			present.add(field.name);
			continue;
		} else {
			value = readScalar(reader, type);
		}

		if (field.inline && value && typeof value === 'object') {
			Object.assign(result, value);
			continue;
		}

		if (field.repeated) {
			const list = (result[field.name] ?? []) as unknown[];
			list.push(value);
			result[field.name] = list;
		} else {
			result[field.name] = value;
		}

		present.add(field.name);
	}

	for (const field of fields) {
		if (!present.has(field.name) || field.repeated || typeof field.type === 'object') {
			continue;
		}

		if (result[field.name] === undefined || (!field.keep && isZero(result[field.name]))) {
			delete result[field.name];
		}
	}

	return result;
}

function isEmptyObject(value: unknown): boolean {
	return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;
}

/** Drops what Go writes for absent optional structs and never serialises to JSON (empty status, empty metadata maps). */
function tidy(object: Record<string, unknown>): void {
	if (isEmptyObject(object['status'])) {
		delete object['status'];
	}

	const metadata = object['metadata'] as Record<string, unknown> | undefined;
	if (metadata) {
		delete metadata['creationTimestamp'];
	}
}

/** Decodes a `k8s\0`-enveloped protobuf body into a JSON object; 415 for kinds without tables, 400 when malformed. */
export function decodeProtobufObject(body: Buffer, table: ResourceTable, notDecoded?: Set<string>): Record<string, unknown> {
	skipped = notDecoded;
	try {
		return decodeEnvelope(body, table);
	} finally {
		skipped = undefined;
	}
}

function decodeEnvelope(body: Buffer, table: ResourceTable): Record<string, unknown> {
	if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0') {
		throw ApiError.badRequest('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
	}

	let envelope: Record<string, unknown>;
	try {
		envelope = decodeMessage(body.subarray(4), 'Unknown');
	} catch (error) {
		throw ApiError.badRequest(`unable to decode protobuf envelope: ${error instanceof Error ? error.message : String(error)}`);
	}

	const typeMeta = (envelope['typeMeta'] ?? {}) as {apiVersion?: string; kind?: string};
	const apiVersion = typeMeta.apiVersion ?? '';
	const kind = typeMeta.kind ?? '';
	const message = kinds[`${apiVersion}/${kind}`];
	if (!message) {
		const known = table.byKind(apiVersion, kind);
		throw ApiError.unsupportedMediaType(protobufContentType, known ? ['application/json', 'application/yaml'] : ['application/json', 'application/yaml', protobufContentType]);
	}

	if (envelope['contentEncoding']) {
		throw ApiError.unsupportedMediaType(protobufContentType, ['application/json']);
	}

	try {
		const raw = Buffer.from(String(envelope['raw'] ?? ''), 'base64');
		const object = decodeMessage(raw, message);
		tidy(object);
		return {apiVersion, kind, ...object};
	} catch (error) {
		throw ApiError.badRequest(`unable to decode ${kind} from protobuf: ${error instanceof Error ? error.message : String(error)}`);
	}
}

/** Field tables, for tests that encode bodies the way kubectl does. */
export const protobufMessages = messages;

/** gnostic's openapi_v2.Document {1: swagger, 2: info {1: title, 2: version}, 8: paths {}}, protobuf-encoded. */
export function emptyOpenApiV2(version: string): Buffer {
	const info = protobuf.Writer.create().uint32((1 << 3) | 2).string('Kubernetes').uint32((2 << 3) | 2).string(version).finish();
	const document = protobuf.Writer.create()
		.uint32((1 << 3) | 2).string('2.0')
		.uint32((2 << 3) | 2).bytes(info)
		.uint32((8 << 3) | 2).bytes(new Uint8Array())
		.finish();
	return Buffer.from(document);
}
