/** Replay scripts: a scenario, a strategy and the schedule of one interleaving, as JSON. */
import { ScenarioError, validateScenario, type ScenarioSpec } from './scenario.js';

export interface ReplayScript {
  /** The scenario itself (so a replay needs no other file). */
  scenario: ScenarioSpec;
  strategy: string;
  /** The actor chosen at each decision; past the end nobody is preempted. */
  schedule: string[];
}

export function replayScript(scenario: ScenarioSpec, strategy: string, schedule: string[]): string {
  const r: ReplayScript = { scenario, strategy, schedule };
  return JSON.stringify(r, null, 1) + '\n';
}

export function parseReplay(text: string): ReplayScript {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch (e) {
    throw new ScenarioError(`not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const o = x as Partial<ReplayScript> | null;
  if (typeof o !== 'object' || o === null) throw new ScenarioError('a replay script is a JSON object');
  if (typeof o.strategy !== 'string') throw new ScenarioError('"strategy" must be a strategy name');
  if (!Array.isArray(o.schedule) || o.schedule.some((s) => typeof s !== 'string'))
    throw new ScenarioError('"schedule" must be a list of actor names');
  return { scenario: validateScenario(o.scenario), strategy: o.strategy, schedule: o.schedule };
}
