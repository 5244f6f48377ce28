/**
 * The Docker path: one generic testcontainers container per broker. Used only when `docker info`
 * succeeds; testcontainers is imported lazily so machines without Docker never load it.
 */
export interface StartedBrokerContainer {
  /** host:port reaching the container's port from this machine. */
  readonly hostPort: string;
  stop(): Promise<void>;
}

export async function startContainer(options: {
  image: string;
  port: number;
  readyLog: RegExp;
  command?: string[];
}): Promise<StartedBrokerContainer> {
  const { GenericContainer, Wait } = await import('testcontainers');
  let definition = new GenericContainer(options.image)
    .withExposedPorts(options.port)
    .withWaitStrategy(Wait.forLogMessage(options.readyLog))
    .withStartupTimeout(180_000);
  if (options.command) definition = definition.withCommand(options.command);
  const container = await definition.start();
  return {
    hostPort: `${container.getHost()}:${container.getMappedPort(options.port)}`,
    async stop() {
      await container.stop();
    },
  };
}
