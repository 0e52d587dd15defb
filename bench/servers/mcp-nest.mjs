// @rekog/mcp-nest 2.0 in NestJS 12 (express): an @McpController with one `echo` tool, served by
// McpStrategy's StreamableHttpTransport on the app's HTTP adapter. MODE=stateful (default) or
// stateless; JSON=1 answers with JSON bodies (stateful default: SSE; stateless default: JSON).
// Plain JS: the decorators are applied by hand (what tsc emits for them).
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Payload } from '@nestjs/microservices';
import { McpController, McpStrategy, StreamableHttpTransport, Tool } from '@rekog/mcp-nest';
import { z } from 'zod';

class EchoController {
  echo({ text }) {
    return { content: [{ type: 'text', text }] };
  }
}
Payload()(EchoController.prototype, 'echo', 0);
Reflect.decorate(
  [Tool({ name: 'echo', description: 'Echoes the text', parameters: z.object({ text: z.string() }) }), Reflect.metadata('design:paramtypes', [Object])],
  EchoController.prototype,
  'echo',
  Object.getOwnPropertyDescriptor(EchoController.prototype, 'echo'),
);
const Controller = Reflect.decorate([McpController()], EchoController);

class AppModule {}
Reflect.decorate([Module({ controllers: [Controller] })], AppModule);

const stateful = (process.env.MODE ?? 'stateful') === 'stateful';
const json = process.env.JSON === '1' ? { enableJsonResponse: true } : process.env.JSON === '0' ? { enableJsonResponse: false } : {};
const mcp = new McpStrategy({ name: 'mcp-nest', version: '1.0.0', logging: false, transports: [new StreamableHttpTransport({ statefulMode: stateful, ...json })] });
const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
mcp.setHttpAdapter(app.getHttpAdapter());
app.connectMicroservice({ strategy: mcp });
await app.startAllMicroservices();
await app.listen(Number(process.env.PORT), '127.0.0.1');
