// The slice of autocannon's programmatic API the benchmark uses (the package ships no types).
declare module 'autocannon' {
  interface Request { method?: string; path?: string; body?: string; headers?: Record<string, string> }
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    pipelining?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    requests?: (Request & { setupRequest?: (req: Request) => Request })[];
  }
  interface Histogram { average: number; p99: number; p50: number }
  export interface Result { requests: Histogram & { total: number }; latency: Histogram; non2xx: number; duration: number; errors: number; statusCodeStats: Record<string, { count: number }> }
  function autocannon(opts: Options): Promise<Result>;
  export default autocannon;
}
