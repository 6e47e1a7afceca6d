/**
Label and field selectors as the real API server parses them (k8s.io/apimachinery `labels` and
`fields`): `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x,y)`, `a`, `!a`, `a>1`, `a<1` for labels;
`a=b`, `a==b`, `a!=b` for fields. A malformed selector is a 400 BadRequest.
*/
import {ApiError} from './api-error.js';

export type LabelRequirement =
	| {key: string; op: 'exists' | 'notexists'}
	| {key: string; op: 'in' | 'notin'; values: string[]}
	| {key: string; op: 'gt' | 'lt'; value: number};

export type LabelSelector = LabelRequirement[];

function splitTopLevel(text: string): string[] {
	const parts: string[] = [];
	let depth = 0;
	let current = '';
	for (const char of text) {
		if (char === '(') {
			depth++;
		} else if (char === ')') {
			depth--;
		}

		if (char === ',' && depth === 0) {
			parts.push(current);
			current = '';
		} else {
			current += char;
		}
	}

	parts.push(current);
	return parts;
}

const keyPattern = /^([a-z\d]([-a-z\d]*[a-z\d])?(\.[a-z\d]([-a-z\d]*[a-z\d])?)*\/)?[A-Za-z\d]([-\w.]*[A-Za-z\d])?$/;
const valuePattern = /^([A-Za-z\d]([-\w.]*[A-Za-z\d])?)?$/;

function checkKey(key: string, whole: string): string {
	if (!keyPattern.test(key)) {
		throw ApiError.badRequest(`unable to parse requirement: <nil>: Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') (in "${whole}")`);
	}

	return key;
}

function checkValue(value: string, whole: string): string {
	if (!valuePattern.test(value) || value.length > 63) {
		throw ApiError.badRequest(`unable to parse requirement: values[0][${value}]: Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (in "${whole}")`);
	}

	return value;
}

export function parseLabelSelector(text: string | undefined): LabelSelector {
	if (!text || !text.trim()) {
		return [];
	}

	const result: LabelSelector = [];
	for (const raw of splitTopLevel(text)) {
		const part = raw.trim();
		if (!part) {
			throw ApiError.badRequest(`unable to parse requirement: found '', expected: !, identifier, or 'end of string'`);
		}

		let match: RegExpMatchArray | null;
		if ((match = /^!\s*(\S+)$/.exec(part))) {
			result.push({key: checkKey(match[1]!, text), op: 'notexists'});
		} else if ((match = /^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part))) {
			const values = match[3]!.split(',').map(v => checkValue(v.trim(), text));
			result.push({key: checkKey(match[1]!, text), op: match[2] as 'in' | 'notin', values});
		} else if ((match = /^([^!=<>\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part))) {
			const key = checkKey(match[1]!, text);
			const value = checkValue(match[3]!, text);
			result.push({key, op: match[2] === '!=' ? 'notin' : 'in', values: [value]});
		} else if ((match = /^([^!=<>\s]+)\s*([<>])\s*(\S+)$/.exec(part))) {
			const value = Number(match[3]);
			if (!Number.isInteger(value)) {
				throw ApiError.badRequest(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer (in "${text}")`);
			}

			result.push({key: checkKey(match[1]!, text), op: match[2] === '>' ? 'gt' : 'lt', value});
		} else if (/^\S+$/.test(part)) {
			result.push({key: checkKey(part, text), op: 'exists'});
		} else {
			throw ApiError.badRequest(`unable to parse requirement: found '${part}', expected: ',', 'end of string'`);
		}
	}

	return result;
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
	const map = labels ?? {};
	return selector.every(requirement => {
		const has = Object.hasOwn(map, requirement.key);
		const value = map[requirement.key];
		switch (requirement.op) {
			case 'exists': {
				return has;
			}

			case 'notexists': {
				return !has;
			}

			case 'in': {
				return has && requirement.values.includes(value!);
			}

			case 'notin': {
				return !has || !requirement.values.includes(value!);
			}

			case 'gt': {
				return has && Number(value) > requirement.value;
			}

			case 'lt': {
				return has && Number(value) < requirement.value;
			}
		}
	});
}

export type FieldRequirement = {field: string; op: '=' | '!='; value: string};

export function parseFieldSelector(text: string | undefined, supported: readonly string[]): FieldRequirement[] {
	if (!text || !text.trim()) {
		return [];
	}

	const result: FieldRequirement[] = [];
	for (const raw of text.split(',')) {
		const part = raw.trim();
		const match = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(part);
		if (!match) {
			throw ApiError.badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
		}

		const field = match[1]!.trim();
		if (!supported.includes(field)) {
			throw ApiError.badRequest(`field label not supported: ${field}`);
		}

		result.push({field, op: match[2] === '!=' ? '!=' : '=', value: match[3]!.trim()});
	}

	return result;
}

export function matchesFields(selector: readonly FieldRequirement[], fields: Record<string, string>): boolean {
	return selector.every(requirement => {
		const value = fields[requirement.field] ?? '';
		return requirement.op === '=' ? value === requirement.value : value !== requirement.value;
	});
}
