import { NAME_PATTERN } from "../bulk/selection.ts";
import { INDEX_OPS, type IndexOp } from "../statebacked/api.ts";
import { InputError, shown } from "./inputs.ts";

/** `instances-query`: "<index> <op> <value>", e.g. `plan eq enterprise` (the value is the rest of the line). */
export interface InstanceQuery {
  index: string;
  op: IndexOp;
  value: string;
}

export function parseInstanceQuery(text: string): InstanceQuery {
  const m = /^\s*(\S+)\s+(\S+)\s+(.*?)\s*$/s.exec(text);
  const shape = `write it as '<index> <op> <value>', e.g. 'plan eq enterprise', with <op> one of ${INDEX_OPS.join(", ")}`;
  if (!m) throw new InputError("instances-query", `'${text.trim()}' is not a query: ${shape}`);
  const [, index, op, value] = m as unknown as [string, string, string, string];
  if (!NAME_PATTERN.test(index)) throw new InputError("instances-query", `'${shown(index)}' is not an index name (letters, digits, '-', '_'): ${shape}`);
  if (!(INDEX_OPS as readonly string[]).includes(op)) throw new InputError("instances-query", `'${shown(op)}' is not an operator: ${shape}`);
  if (value === "") throw new InputError("instances-query", `the query has no value: ${shape}`);
  if (/[\r\n]/.test(value)) throw new InputError("instances-query", "the value must be on one line");
  return { index, op: op as IndexOp, value };
}
