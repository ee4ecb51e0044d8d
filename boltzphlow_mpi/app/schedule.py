"""When a run writes records and checkpoints (docs/numerics.md, "Output times do not steer
the steps", "Checkpoints and restart"): the output times, the end time and the
checkpoint cadence, in internal time units, and how a restart with other run-control keys
goes on from the last record."""
import numpy as np


class Schedule:
    """Output times ``t_k = k * interval`` up to ``t_end`` (shifted after a restart that
    changes the interval) and checkpoint times at multiples of ``checkpoint_interval``.

    Parameters
    ----------
    time_cfg, output_cfg : dict
        The ``[time]`` and ``[output]`` sections of a validated config.
    tau0_ns : float
        The time unit (ns).
    """

    def __init__(self, time_cfg, output_cfg, tau0_ns):
        to_int = 1.0 / tau0_ns
        self.t_end = time_cfg.t_end_ns * to_int
        self.output_interval = (time_cfg.output_interval_ns * to_int if time_cfg.output_interval_ns
                                else self.t_end / 100)
        self.checkpoint_interval = (output_cfg.checkpoint_interval_ns * to_int
                                    if output_cfg.checkpoint_interval_ns else None)
        self.checkpoint_interval_ns = output_cfg.checkpoint_interval_ns
        self.next_checkpoint = self.checkpoint_interval if self.checkpoint_interval else np.inf
        # record k is at t0 + (k - k0) * interval; (k0, t0) moves when a restart changes the interval
        self.output_origin = (0, 0.0)

    def output_time(self, k):
        """The time of record ``k`` (the last one exactly ``t_end``)."""
        k0, t0 = self.output_origin
        target = min(self.t_end, t0 + (k - k0) * self.output_interval if (k0, t0) != (0, 0.0)
                     else k * self.output_interval)
        return self.t_end if self.t_end - target < 1e-9 * self.output_interval else target

    def at_end(self, t):
        return t >= self.t_end * (1 - 1e-13)

    def checkpoint_due(self, t):
        """Is a checkpoint due at ``t`` (a record time)? Advances the cadence if so."""
        if self.checkpoint_interval is None:
            return False
        if not (t >= self.next_checkpoint * (1 - 1e-12) or self.at_end(t)):
            return False
        while self.next_checkpoint <= t * (1 + 1e-12):
            self.next_checkpoint += self.checkpoint_interval
        return True

    def continue_from(self, old_cfg, records, t, tau0_ns):
        """After a restart from a run with config ``old_cfg`` that wrote ``records`` records
        and stands at ``t``: the output and checkpoint cadence go on from now."""
        to_int = 1.0 / tau0_ns
        old_time = old_cfg.time
        old_out = (old_time.output_interval_ns * to_int if old_time.output_interval_ns
                   else old_time.t_end_ns * to_int / 100)
        if old_out != self.output_interval and records > 0:
            # the next record comes one new interval after the last one written
            k0 = records - 1
            self.output_origin = (k0, min(old_time.t_end_ns * to_int, k0 * old_out))
        if old_cfg.output.checkpoint_interval_ns != self.checkpoint_interval_ns:
            self.next_checkpoint = t + self.checkpoint_interval if self.checkpoint_interval else np.inf
