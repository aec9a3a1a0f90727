/** The spellings of one name: `event-counts` is `eventCounts`, `EventCounts` and `event_counts`. */
export interface Names {
  kebab: string;
  camel: string;
  pascal: string;
  snake: string;
}

const KEBAB = /^[a-z][a-z0-9]*(-[a-z][a-z0-9]*)*$/;

export function namesOf(name: string): Names {
  if (!KEBAB.test(name)) throw new Error(`"${name}" is not a kebab-case name (like event-counts)`);
  const words = name.split('-');
  const capitalized = words.map((word) => word[0]!.toUpperCase() + word.slice(1));
  return { kebab: name, camel: words[0] + capitalized.slice(1).join(''), pascal: capitalized.join(''), snake: words.join('_') };
}
