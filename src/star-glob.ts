// LTTng's star globs, the one matcher for event-rule names (kernel and user space, --exclude) and for string
// comparisons in filters: `*` matches any run of characters (none included), `\` makes the next character
// literal (`\*` a star, `\\` a backslash), and a pattern ending in a lone `\` matches nothing. No `?` or
// `[...]`: lttng-tools' strutils_star_glob_match() knows only stars.
//
// Contract: starGlobRegExp(glob) is the anchored RegExp of a pattern; starGlobMatches(glob, text) the same, with
// the RegExp kept per pattern (rule sets are matched against every event name an app declares);
// isStarGlob(text) tells whether text has an unescaped star, i.e. is a pattern rather than one name;
// unescapeStarGlob(text) is the one string a pattern without stars matches.

export function starGlobRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\') {
      if (++i === glob.length) return /(?!)/;
      re += escapeRegExp(glob[i]!);
    } else re += c === '*' ? '[\\s\\S]*' : escapeRegExp(c);
  }
  return new RegExp(`^${re}$`);
}

const cache = new Map<string, RegExp>();

export function starGlobMatches(glob: string, text: string): boolean {
  let re = cache.get(glob);
  if (re === undefined) cache.set(glob, (re = starGlobRegExp(glob)));
  return re.test(text);
}

export function isStarGlob(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '*') return true;
  }
  return false;
}

export function unescapeStarGlob(text: string): string {
  return text.replace(/\\([\s\S])/g, '$1');
}

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
