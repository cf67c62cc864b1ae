/** One problem in a pipeline spec or an API request: where, what, and how to fix it. */
export interface SpecProblem {
  /** The file (or `request body`) it came from. */
  readonly file: string;
  /** Property path, e.g. `spec.steps[1].retries.limit`. */
  readonly path: string;
  /** 1-based line in the file, when known. */
  readonly line?: number;
  readonly message: string;
  readonly fix: string;
}

/** Raised with every problem at once; nothing is applied when it is thrown. */
export class SpecError extends Error {
  readonly problems: readonly SpecProblem[];
  constructor(problems: readonly SpecProblem[]) {
    const lines = problems.map(
      (p) => `  - ${p.file}${p.line ? `:${p.line}` : ""}: ${p.path}: ${p.message} Fix: ${p.fix}`,
    );
    super(
      `${problems.length === 1 ? "1 problem" : `${problems.length} problems`} in the pipeline spec:\n${lines.join("\n")}`,
    );
    this.name = "SpecError";
    this.problems = problems;
  }
}

/** Collects problems for one file; `lineOf` maps a path to its line when the source is YAML. */
export class SpecProblems {
  readonly items: SpecProblem[] = [];
  constructor(
    readonly file: string,
    private readonly lineOf: (path: string) => number | undefined = () => undefined,
  ) {}

  add(path: string, message: string, fix: string): void {
    const line = this.lineOf(path);
    this.items.push({ file: this.file, path, ...(line ? { line } : {}), message, fix });
  }

  throwIfAny(): void {
    if (this.items.length > 0) throw new SpecError(this.items);
  }
}
