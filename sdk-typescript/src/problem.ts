import type { FieldError, Problem } from './generated/index.js';

/**
 * Thrown by every call of an {@link AirlockClient} API whose response is not 2xx. Carries the
 * RFC 7807 problem document the platform sent (`application/problem+json`); when the body is
 * not one (a proxy's HTML page, say), the problem is synthesised from the status with
 * `type: "about:blank"`, as RFC 7807 prescribes, and the raw body is kept in {@link body}.
 */
export class AirlockProblemError extends Error {
  override readonly name = 'AirlockProblemError';

  /** The problem document, as sent or synthesised. */
  readonly problem: Problem;
  /** The response headers, e.g. `Retry-After` or `WWW-Authenticate`. */
  readonly headers: Headers;
  /** The URL of the failed request. */
  readonly url: string;
  /** The parsed JSON body (or the text, when it is not JSON; `undefined` when empty). */
  readonly body: unknown;

  constructor(problem: Problem, headers: Headers = new Headers(), url = '', body: unknown = problem) {
    super(AirlockProblemError.describe(problem));
    this.problem = problem;
    this.headers = headers;
    this.url = url;
    this.body = body;
  }

  /** A stable URN naming the kind of problem, e.g. `urn:airlock:problem:forbidden`. */
  get type(): string {
    return this.problem.type;
  }

  get title(): string {
    return this.problem.title;
  }

  /** The HTTP status code. */
  get status(): number {
    return this.problem.status;
  }

  /** What was wrong and what was expected. */
  get detail(): string | undefined {
    return this.problem.detail;
  }

  /** Identifies this occurrence in the server's log. */
  get instance(): string | undefined {
    return this.problem.instance;
  }

  /** One entry per invalid field (validation problems); empty otherwise. */
  get errors(): FieldError[] {
    return this.problem.errors ?? [];
  }

  /** Seconds to wait before retrying, from `Retry-After` (delta-seconds or an HTTP date). */
  get retryAfterSeconds(): number | undefined {
    const value = this.headers.get('Retry-After');
    if (value === null || value.trim() === '') {
      return undefined;
    }
    if (/^\d+$/.test(value.trim())) {
      return Number(value.trim());
    }
    const at = Date.parse(value);
    return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
  }

  /** Reads a non-2xx response (consuming its body) into an error. */
  static async fromResponse(response: Response): Promise<AirlockProblemError> {
    const text = await response.text().catch(() => '');
    let body: unknown = text === '' ? undefined : text;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON: keep the text, synthesise the problem below.
      }
    }
    return new AirlockProblemError(toProblem(body, response), response.headers, response.url, body);
  }

  private static describe(problem: Problem): string {
    const detail = problem.detail ? `: ${problem.detail}` : '';
    return `${problem.status} ${problem.title}${detail} (${problem.type})`;
  }
}

/** Whether `error` is an {@link AirlockProblemError}, optionally of the given problem type. */
export function isAirlockProblem(error: unknown, type?: string): error is AirlockProblemError {
  return error instanceof AirlockProblemError && (type === undefined || error.type === type);
}

function toProblem(body: unknown, response: Response): Problem {
  const fields = isObject(body) ? body : {};
  const problem: Problem = {
    type: typeof fields.type === 'string' ? fields.type : 'about:blank',
    title: typeof fields.title === 'string' ? fields.title : response.statusText || `HTTP ${response.status}`,
    status: typeof fields.status === 'number' ? fields.status : response.status,
  };
  if (typeof fields.detail === 'string') {
    problem.detail = fields.detail;
  }
  if (typeof fields.instance === 'string') {
    problem.instance = fields.instance;
  }
  if (Array.isArray(fields.errors)) {
    problem.errors = fields.errors.filter(isObject).map((entry) => ({
      field: String(entry.field ?? ''),
      message: String(entry.message ?? ''),
    }));
  }
  return problem;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
