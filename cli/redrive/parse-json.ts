/** The JSON value of `text`, or undefined when it is not JSON (a foreign message is data, not an error). */
export function parseJson<T>(text: string | undefined): T | undefined {
  try {
    return JSON.parse(text ?? '') as T;
  } catch {
    return undefined;
  }
}
