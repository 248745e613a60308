// The seed of a property test run: FC_SEED when set (to reproduce a failure), else a new one,
// printed either way so that any failure can be replayed.
export function propertySeed(name: string): number {
  const given = process.env.FC_SEED;
  const seed = given === undefined || given === "" ? Date.now() % 2_147_483_647 : Number(given);
  console.log(`${name}: fast-check seed ${seed} (rerun with FC_SEED=${seed})`);
  return seed;
}
