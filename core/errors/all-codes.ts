import { cliCodes } from '../../cli/error-codes.ts';
import { configCodes } from '../config/error-codes.ts';
import { spiffeCodes } from '../spiffe/error-codes.ts';
import type { CodeTable } from './code-registry.ts';

/** Every area's code table, in the order docs/errors.md lists them. Add a new area's table here. */
export const allCodeTables: readonly { readonly area: string; readonly codes: CodeTable }[] = [
  { area: 'CLI', codes: cliCodes },
  { area: 'CONFIG', codes: configCodes },
  { area: 'SPIFFE', codes: spiffeCodes },
];
