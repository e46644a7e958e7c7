// One HTTP client for the api: same origin, `Accept-Language` in the reader's language (the
// api answers problems translated), the session token when signed in, and RFC 9457 problem
// documents turned into `ApiError`s. Endpoint functions (endpoints.ts) build on `get`/`post`.
import type { Problem } from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail || problem.title);
    this.name = "ApiError";
  }
  get code(): string {
    return this.problem.code;
  }
}

interface ClientState {
  language: () => string;
  token: () => string | null;
}

const state: ClientState = { language: () => "en", token: () => null };

/** Tells the client where the language and the session token come from. */
export function configureClient(next: Partial<ClientState>): void {
  Object.assign(state, next);
}

type Params = Record<string, string | number | readonly string[] | undefined | null>;

/** A query string; an array value repeats its key (`trait=a&trait=b`), empty values are left out. */
export function query(params?: Params): string {
  if (!params) return "";
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (Array.isArray(value)) {
      for (const item of value) if (item !== "") search.append(key, item);
    } else if (value !== undefined && value !== null && value !== "") {
      search.set(key, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

async function request<T>(method: string, path: string, body?: unknown, auth = false): Promise<T> {
  const headers: Record<string, string> = {
    Accept: "application/json",
    "Accept-Language": state.language(),
  };
  const token = state.token();
  if (auth && token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    // Revalidate (ETag → 304) rather than reuse a copy a live notice has just made stale.
    cache: method === "GET" ? "no-cache" : undefined,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const problem: Problem =
      json && typeof json.code === "string"
        ? json
        : { type: "about:blank", title: response.statusText, status: response.status, code: "http" };
    throw new ApiError(response.status, problem);
  }
  return json as T;
}

export const api = {
  get: <T>(path: string, params?: Params, auth = false) => request<T>("GET", path + query(params), undefined, auth),
  post: <T>(path: string, body?: unknown, auth = false) => request<T>("POST", path, body, auth),
};
