import { warnAboutOtherTracing } from './warn-about-other-tracing.js';
import { traceTopic } from './trace-topic.js';
import type { PubSubTopic, TraceTopicOptions } from './types.js';

/** The part of a `PubSub` client tracehop wraps. */
export interface PubSubClient {
  // `never`: tracehop passes the client's own publish options through without reading them.
  topic(name: string, options?: never): PubSubTopic;
}

/**
 * Returns the client with every topic it hands out traced as by {@link traceTopic}:
 * `pubsub.topic(name)`, and the topics of `createTopic`, `getTopics`… (the client builds
 * those with its own `topic()`). Everything else is the client's own.
 */
export function tracePubSub<T extends PubSubClient>(pubsub: T, options: TraceTopicOptions = {}): T {
  warnAboutOtherTracing({ pubsub }, []);
  function topic(name: string, topicOptions?: never): PubSubTopic {
    return traceTopic(pubsub.topic(name, topicOptions), options);
  }
  return new Proxy(pubsub, {
    get(target, key) {
      if (key === 'topic') return topic;
      const value: unknown = Reflect.get(target, key);
      return value;
    },
  });
}
