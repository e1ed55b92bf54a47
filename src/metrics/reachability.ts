/**
 * Whether Odoo and each gateway answered lately: a target is unreachable after `threshold`
 * calls in a row got no answer (one slow call is not an outage). Fed by the call observers.
 */
export class Reachability {
  private readonly failuresInARow = new Map<string, number>();

  constructor(private readonly threshold = 3) {}

  record(target: string, answered: boolean): void {
    this.failuresInARow.set(target, answered ? 0 : (this.failuresInARow.get(target) ?? 0) + 1);
  }

  reachable(target: string): boolean {
    return (this.failuresInARow.get(target) ?? 0) < this.threshold;
  }

  /** The gateways (by id) whose latest calls all went unanswered. */
  unreachableGateways(): string[] {
    return [...this.failuresInARow]
      .filter(([target, failures]) => target.startsWith('gateway:') && failures >= this.threshold)
      .map(([target]) => target.slice('gateway:'.length));
  }
}
