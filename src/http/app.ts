import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Config } from '../config/index.ts';
import { ErrorCode } from '../errors/catalogue.ts';
import { refusalBody } from '../errors/refusal.ts';
import type { Logger } from '../logging/index.ts';

/** How often Node checks header/request timeouts; its default (30 s) would let slow clients linger. */
const CONNECTION_CHECK_INTERVAL_MS = 1_000;

/**
 * The HTTP edge. Fastify (justified: schema-less but fast routing, a content-type parser with a
 * body limit and JSON errors we can map, hooks for auth and rate limiting) on a node:http server
 * whose header/request timeouts and header-size limit we set ourselves.
 */
export function createHttpApp(config: Config, logger: Logger): FastifyInstance {
  const s = config.server;
  const app = Fastify({
    // Errors the HTTP parser raises before any handler (oversized headers, a client too slow to
    // send them, garbage) get the same coded JSON as everything else, then the socket closes.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      const [status, code, message] = clientError(err.code, s);
      const body = JSON.stringify(refusalBody(code, message));
      if (socket.writable) {
        socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      } else {
        socket.destroy();
      }
    },
    // We log one access line per request ourselves; Fastify's request logging would double it.
    logger: false,
    bodyLimit: s.bodyLimitBytes,
    // While draining, requests already on their way must be served, not refused: the load
    // balancer has stopped sending new ones by then (see Portico.drain).
    return503OnClosing: false,
    // On close, idle keep-alive connections are closed at once; busy ones after their response.
    forceCloseConnections: 'idle',
    serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) =>
      createServer(
        {
          maxHeaderSize: s.maxHeaderBytes,
          headersTimeout: s.headersTimeoutMs,
          requestTimeout: s.requestTimeoutMs,
          keepAliveTimeout: s.keepAliveTimeoutMs,
          connectionsCheckingInterval: CONNECTION_CHECK_INTERVAL_MS,
        },
        handler,
      ),
  });
  // Only JSON bodies: text/plain and forms are how cross-site requests sneak in (CSRF), and
  // GraphQL over HTTP needs nothing else.
  app.removeContentTypeParser(['text/plain']);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    let code: ErrorCode = ErrorCode.BAD_REQUEST;
    let message: string;
    if (status === 413) {
      code = ErrorCode.PAYLOAD_TOO_LARGE;
      message = `request body is larger than ${s.bodyLimitBytes} bytes (PORTICO_BODY_LIMIT_BYTES)`;
    } else if (status === 415) {
      message = 'unsupported content type: send application/json';
    } else if (status === 400) {
      message = err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'empty JSON body' : 'malformed JSON body';
    } else if (status < 500) {
      message = err.message;
    } else {
      code = ErrorCode.INTERNAL_SERVER_ERROR;
      message = 'internal server error';
      logger.error({ err, url: req.url }, 'unhandled error in HTTP handler');
    }
    void reply
      .code(status)
      .header('content-type', 'application/json; charset=utf-8')
      .send(JSON.stringify(refusalBody(code, message)));
  });
  return app;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** Maps a Node HTTP parser error code to our status, code and message. Pure. */
export function clientError(code: string | undefined, s: Config['server']): [number, ErrorCode, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, ErrorCode.HEADERS_TOO_LARGE, `request headers are larger than ${s.maxHeaderBytes} bytes (PORTICO_MAX_HEADER_BYTES)`];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, ErrorCode.REQUEST_TIMEOUT, `request not received within ${s.headersTimeoutMs} ms (PORTICO_HEADERS_TIMEOUT_MS / PORTICO_REQUEST_TIMEOUT_MS)`];
    default:
      return [400, ErrorCode.BAD_REQUEST, 'malformed HTTP request'];
  }
}
