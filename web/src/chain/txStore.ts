// The actions in flight and their lifecycle stage, for the tray (kept apart from tx.ts so the
// first page load does not carry the wallet code).
export type Stage = "signing" | "submitted" | "mined" | "indexed" | "failed";

export interface TxEntry {
  id: number;
  label: string;
  stage: Stage;
  hash?: string;
  relayJob?: string;
  /** The relay job's own state (`queued`, `submitted`, `mined`, `confirmed`, …). */
  relayStatus?: string;
  gasless: boolean;
  error?: string;
}

type Listener = () => void;
const listeners = new Set<Listener>();
let entries: TxEntry[] = [];
let nextId = 1;

export function txEntries(): TxEntry[] {
  return entries;
}
export function subscribeTx(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
export function update(id: number, patch: Partial<TxEntry>): void {
  entries = entries.map((e) => (e.id === id ? { ...e, ...patch } : e));
  listeners.forEach((l) => l());
}
export function start(label: string, gasless: boolean): number {
  const id = nextId++;
  entries = [{ id, label, stage: "signing" as Stage, gasless }, ...entries].slice(0, 6);
  listeners.forEach((l) => l());
  return id;
}
export function dismissTx(id: number): void {
  entries = entries.filter((e) => e.id !== id);
  listeners.forEach((l) => l());
}

