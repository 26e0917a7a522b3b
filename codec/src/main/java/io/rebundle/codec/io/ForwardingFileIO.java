package io.rebundle.codec.io;

import java.util.List;

/**
 * A {@link FileIO} that forwards every call to another one: the base for storage decorators
 * (recording, fault injection, throttling) that override only what they change. {@link #copy} is
 * deliberately not forwarded: the default streams through this object's own {@link #newInputFile}
 * and {@link #newOutputFile}, so a decorator sees whole-file copies too.
 */
public abstract class ForwardingFileIO implements FileIO {
  private static final long serialVersionUID = 1L;

  private final FileIO delegate;

  protected ForwardingFileIO(FileIO delegate) {
    this.delegate = delegate;
  }

  protected FileIO delegate() {
    return delegate;
  }

  @Override
  public InputFile newInputFile(String location) {
    return delegate.newInputFile(location);
  }

  @Override
  public OutputFile newOutputFile(String location) {
    return delegate.newOutputFile(location);
  }

  @Override
  public boolean exists(String location) {
    return delegate.exists(location);
  }

  @Override
  public boolean isDirectory(String location) {
    return delegate.isDirectory(location);
  }

  @Override
  public List<String> list(String directory) {
    return delegate.list(directory);
  }

  @Override
  public void rename(String source, String target) {
    delegate.rename(source, target);
  }

  @Override
  public void replace(String source, String target) {
    delegate.replace(source, target);
  }

  @Override
  public boolean renameIsAtomic(String location) {
    return delegate.renameIsAtomic(location);
  }

  @Override
  public boolean readsAreRequests(String location) {
    return delegate.readsAreRequests(location);
  }

  @Override
  public boolean delete(String location) {
    return delegate.delete(location);
  }

  @Override
  public void mkdirs(String directory) {
    delegate.mkdirs(directory);
  }

  @Override
  public String join(String directory, String name) {
    return delegate.join(directory, name);
  }

  @Override
  public String parent(String location) {
    return delegate.parent(location);
  }

  @Override
  public String fileName(String location) {
    return delegate.fileName(location);
  }

  @Override
  public boolean isAbsolute(String location) {
    return delegate.isAbsolute(location);
  }
}
