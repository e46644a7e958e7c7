// Trait filters of the gallery, as the api's collection-tokens endpoint takes them: `Type:Value`
// (the api splits at the first colon, so a value may hold colons; a type may not).

/** The filter for one value of one trait. */
export function traitKey(traitType: string, value: string): string {
  return `${traitType}:${value}`;
}

/** `selected` with that value of that trait switched on or off. */
export function toggleTrait(selected: readonly string[], traitType: string, value: string): string[] {
  const key = traitKey(traitType, value);
  return selected.includes(key) ? selected.filter((k) => k !== key) : [...selected, key];
}
