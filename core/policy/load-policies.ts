import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { deepFreeze, zodIssues } from '../config/load.ts';
import { MeshError } from '../errors/mesh-error.ts';
import { authorizationPolicySchema, policyKey, type AuthorizationPolicy } from './schema.ts';

/**
 * Loading policy files: multi-document YAML, every document validated, every problem reported at
 * once with its file, document and field path. Nothing is half-applied: callers take `policies`
 * only when `issues` is empty (fail closed at start, keep the last good set on reload).
 */

export interface LoadedPolicy {
  readonly file: string;
  /** 0-based index of the document in its file (printed 1-based: "document 1" is the first). */
  readonly docIndex: number;
  readonly policy: AuthorizationPolicy;
}

export interface PolicyIssue {
  readonly file: string;
  /** 0-based document index, or null for a problem with the whole file (unreadable). */
  readonly docIndex: number | null;
  /** Dotted field path inside the document, "(root)" for the document itself. */
  readonly path: string;
  readonly message: string;
}

export interface PolicyLoadResult {
  readonly policies: readonly LoadedPolicy[];
  readonly issues: readonly PolicyIssue[];
}

/** `FILE: document N: field.path: message`, as `ztmesh policy check` prints it. */
export function formatPolicyIssue(issue: PolicyIssue): string {
  if (issue.docIndex === null) return `${issue.file}: ${issue.message}`;
  return `${issue.file}: document ${issue.docIndex + 1}: ${issue.path}: ${issue.message}`;
}

/** Parses and validates the documents of one file's text. Empty documents are skipped. */
export function parsePolicyDocuments(text: string, file: string): PolicyLoadResult {
  const policies: LoadedPolicy[] = [];
  const issues: PolicyIssue[] = [];
  const docs = parseAllDocuments(text, { strict: true, uniqueKeys: true, prettyErrors: false });
  // parseAllDocuments returns an EmptyStream (not an array) for empty input.
  const list = Array.isArray(docs) ? docs : [];
  list.forEach((doc, docIndex) => {
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        const line = err.linePos?.[0]?.line;
        issues.push({ file, docIndex, path: '(root)', message: `invalid YAML${line === undefined ? '' : ` at line ${line}`}: ${err.message.split('\n')[0]}` });
      }
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      issues.push({ file, docIndex, path: '(root)', message: `invalid YAML: ${err instanceof Error ? err.message : String(err)}` });
      return;
    }
    if (value === null || value === undefined) return;
    const result = authorizationPolicySchema.safeParse(value);
    if (!result.success) {
      for (const issue of zodIssues(result.error)) issues.push({ file, docIndex, path: issue.path, message: issue.message });
      return;
    }
    policies.push({ file, docIndex, policy: deepFreeze(result.data) });
  });
  return { policies, issues };
}

/** Reads and validates every file; also reports a NS/NAME defined twice across the set. */
export function loadPolicyFiles(files: readonly string[]): PolicyLoadResult {
  const policies: LoadedPolicy[] = [];
  const issues: PolicyIssue[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      issues.push({ file, docIndex: null, path: '(root)', message: `cannot read file: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
      continue;
    }
    const result = parsePolicyDocuments(text, file);
    policies.push(...result.policies);
    issues.push(...result.issues);
  }
  const seen = new Map<string, LoadedPolicy>();
  for (const loaded of policies) {
    const key = policyKey(loaded.policy);
    const first = seen.get(key);
    if (first !== undefined) {
      issues.push({ file: loaded.file, docIndex: loaded.docIndex, path: 'metadata.name', message: `policy ${key} is already defined in ${first.file} document ${first.docIndex + 1}` });
    } else {
      seen.set(key, loaded);
    }
  }
  return { policies, issues };
}

/** As loadPolicyFiles, but any issue is a ZTMESH_POLICY_INVALID error listing all of them. */
export function loadPolicySet(files: readonly string[]): AuthorizationPolicy[] {
  const { policies, issues } = loadPolicyFiles(files);
  if (issues.length > 0) {
    throw new MeshError('ZTMESH_POLICY_INVALID', `invalid policies:\n${issues.map((i) => `  ${formatPolicyIssue(i)}`).join('\n')}`, {
      details: { issues },
    });
  }
  return policies.map((p) => p.policy);
}
