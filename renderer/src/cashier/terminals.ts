// The terminals line of the status bar: how many of the till's terminals are connected.
/** The terminals connected out of those the till lists (a closed one is gone for good). */
export function terminalCounts(list: readonly { state: string }[]): { connected: number; total: number } {
  const live = list.filter((d) => d.state !== 'closed');
  return { connected: live.filter((d) => d.state === 'connected').length, total: live.length };
}
