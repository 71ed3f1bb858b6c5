/**
 * The shipping loop's one sleep: a timed wait that anything making new work (spool bytes, a
 * message encoded, compressor room, end of input) cuts short with `wake()`. One sleeper at a time.
 */
class Wakeup {
  private waiter: (() => void) | undefined;

  readonly wake = (): void => {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  };

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiter = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

export { Wakeup };
