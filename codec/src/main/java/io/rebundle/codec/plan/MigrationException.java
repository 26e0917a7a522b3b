package io.rebundle.codec.plan;

import io.rebundle.codec.RebundleException;

/** A migration that cannot be planned as asked: colliding target keys, a bad root name. */
public final class MigrationException extends RebundleException {
  private static final long serialVersionUID = 1L;

  public MigrationException(String message) {
    super(message);
  }
}
