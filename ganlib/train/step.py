"""The ``tf.function`` train step: one generator iteration, with a ``GradientTape`` and an optimizer per network.

:func:`make_train_step` builds the step for any pair of networks and any pair
of loss functions of :mod:`ganlib.losses`; :func:`make_train_function` runs it
``steps_per_execution`` times per call on the replicas of a
``tf.distribute.Strategy``.

One call of the step is one *generator iteration* of Algorithm 1 of the GAN
papers (Goodfellow et al. 2014; Arjovsky et al. 2017; Gulrajani et al. 2017):
``n_critic`` critic updates, each on its own real batch and its own noise,
then one generator update with fresh noise against the critic's newest
weights. For ``n_critic = 1`` a *simultaneous* update is offered too (one
forward pass, both gradients taken at the same parameters, as the TensorFlow
DCGAN tutorial does); :class:`ganlib.config.TrainConfig` chooses between them.
"""

from __future__ import annotations

from typing import Callable, Iterator, Sequence

import keras
import numpy as np
import tensorflow as tf

from ganlib import losses as L
from ganlib.penalties import CriticTerm, gradient_penalty_term
from ganlib.train import health

STEP_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "real_score", "fake_score")
"""The statistics every step reports; the health signals (:func:`step_keys`) and each critic term add their own."""


def step_keys(discriminator_loss: L.DiscriminatorLoss, terms: Sequence[CriticTerm] = (),
              health_signals: bool = True) -> tuple[str, ...]:
    """Every key of a step's statistics, in order: :data:`STEP_KEYS`, the health signals, the critic terms.

    The health signals depend on the discriminator loss (:func:`ganlib.train.health.signal_keys`).
    """
    signals = health.signal_keys(discriminator_loss) if health_signals else ()
    return STEP_KEYS + signals + tuple(t.name for t in terms)


def make_train_step(
    generator: keras.Model,
    discriminator: keras.Model,
    g_optimizer: keras.optimizers.Optimizer,
    d_optimizer: keras.optimizers.Optimizer,
    *,
    discriminator_loss: L.DiscriminatorLoss,
    generator_loss: L.GeneratorLoss,
    latent_dim: int,
    n_critic: int = 1,
    simultaneous: bool = False,
    clip_value: float | None = None,
    gp_weight: float = 0.0,
    critic_terms: Sequence[CriticTerm] = (),
    noise: tf.random.Generator | None = None,
    after_generator_update: Sequence[Callable[[], None]] = (),
    augment: Callable[[tf.Tensor, tf.random.Generator], tf.Tensor] | None = None,
    health_signals: bool = True,
    jit_compile: bool = False,
) -> Callable[..., dict[str, tf.Tensor]]:
    """Build a ``tf.function`` that performs one generator iteration on ``n_critic`` real batches.

    Alternating update (``simultaneous=False``; Algorithm 1 of Goodfellow et al.
    2014 with k = ``n_critic``, of Arjovsky et al. 2017 and of Gulrajani et al. 2017)::

        for i in 1..n_critic:                       # critic updates
            x_i = the i-th real batch of the call;  z_i ~ N(0, I), fresh
            w <- w - d_optimizer(grad_w [L_D(D(x_i), D(G(z_i))) + sum_t weight_t * term_t])
            w <- clip(w, -c, c)                      # WGAN only, also before the first update
        z ~ N(0, I), fresh                           # generator update, against the newest critic
        theta <- theta - g_optimizer(grad_theta L_G(D(G(z))))

    The generator's gradient is always taken from a forward pass made after the
    last critic update. With ``clip_value`` the critic's weights are clipped
    before each critic update (as the reference WGAN code clamps before each
    critic iteration, so the first update starts from clipped initial weights)
    and after it (the paper's Algorithm 1, line 7, so the generator is trained
    against a clipped critic).

    Simultaneous update (``simultaneous=True``, ``n_critic`` must be 1): one
    forward pass ``G(z) -> D(x), D(G(z))`` recorded by both tapes, and both
    gradients taken at the same parameters, as in the TensorFlow DCGAN tutorial;
    it saves one forward pass of each network per step.

    The critic's regularisers are data: each :class:`ganlib.penalties.CriticTerm` of
    ``critic_terms`` (``gp_weight`` > 0 adds the gradient penalty,
    :func:`ganlib.penalties.gradient_penalty_term`, before them) is added to the critic's
    loss with its weight and reported under its name. A lazy term (``every`` > 1; Karras et al.
    2020, section 3.1) is its own critic update instead, minimising ``weight * every * term`` after the
    step's (last) critic update, on every step where ``g_optimizer.iterations`` is a multiple of
    ``every``; its statistic is 0 on the other steps. Departure from StyleGAN2's code: Adam's learning
    rate and betas are not rescaled for the extra updates. A lazy term needs one replica (its
    conditional update cannot synchronise replicas).

    A relativistic generator loss (:func:`ganlib.losses.pairs_with_real`) is called as
    ``L_G(D(G(z)), D(x))``: in the simultaneous update with the pass's real scores, in the
    alternating update with the newest critic's scores of the last critic update's real batch
    (one more critic forward pass).

    Labels: a step called with ``labels`` calls the networks as ``generator([z, labels])``
    and ``discriminator([x, labels])`` (a class-conditional pair); the fakes of each critic
    update are drawn for the labels of its real batch, and the generator update uses the
    labels of the last real batch. Without labels they are called as ``generator(z)`` and
    ``discriminator(x)``.

    Augmentation: with ``augment`` (``T``), the discriminator scores ``T(x)`` instead of ``x`` at
    every call of the step: real and generated images, in the critic's and the generator's updates
    and in the simultaneous update (Zhao et al. 2020, eq. (3) and (4)), with a new draw of ``T`` at
    each call. A critic term scores its own inputs through ``T`` too: the gradient penalty takes its
    interpolates between the un-augmented real and generated images and penalises the gradient of
    ``D(T(x_hat))`` with respect to ``x_hat``, and R1/R2 that of ``D(T(x))`` with respect to ``x``, as
    the paper's code differentiates R1 through its transform. ``T``'s randomness comes from ``noise``.

    Scaling (distribution and mixed precision): every loss is multiplied by
    ``1 / num_replicas_in_sync`` before it is differentiated, because Keras's
    optimizer sums the replicas' gradients (``all_reduce(SUM)``); a replica's mean
    over its ``B / R`` examples divided by ``R`` is its sum divided by the global
    batch ``B``, as ``tf.nn.compute_average_loss`` computes it. Then each loss
    passes through its optimizer's ``scale_loss`` (a ``LossScaleOptimizer`` scales it
    by its dynamic loss scale; other optimizers leave it unchanged). Run the step
    on several replicas through :func:`make_train_function`.

    Example:
        >>> from ganlib.models import build_discriminator, build_generator
        >>> g, d = build_generator(8, 8), build_discriminator(8)
        >>> step = make_train_step(g, d, keras.optimizers.Adam(2e-4, 0.5), keras.optimizers.Adam(2e-4, 0.5),
        ...     discriminator_loss=L.minimax_discriminator_loss,
        ...     generator_loss=L.non_saturating_generator_loss, latent_dim=8)
        >>> float(step(tf.zeros([16, 28, 28, 1]))["d_loss"]) > 0
        True

    Args:
        generator: maps ``z`` ``[batch, latent_dim]`` (or ``[z, labels]``) to images ``[batch, ...]``.
        discriminator: maps images (or ``[x, labels]``) to logits / critic scores ``[batch, ...]``.
            Always called with ``training=True`` in the step, so batch normalization uses batch
            statistics and spectral normalization normalises.
        g_optimizer, d_optimizer: two distinct optimizers, one per network.
        discriminator_loss: ``f(real_logits, fake_logits) -> scalar``.
        generator_loss: ``f(fake_logits) -> scalar``, or ``f(fake_logits, real_logits)`` for a
            relativistic one.
        latent_dim: size of ``z``.
        n_critic: critic updates per generator update, >= 1.
        simultaneous: the simultaneous update described above (only with ``n_critic = 1``).
        clip_value: weight-clipping bound c > 0, or None.
        gp_weight: gradient-penalty weight lambda >= 0 (Gulrajani et al. 2017: 10); 0: none.
        critic_terms: further regularisers of the critic's loss (see :mod:`ganlib.penalties`).
        noise: the random generator for ``z`` and the terms' randomness (the penalty's
            interpolation weights); checkpointed with the run, so a resumed run draws the same
            noise. None seeds one from NumPy's global seed.
        after_generator_update: functions called (traced) inside the step right after every
            generator update, for example a component's EMA update (:mod:`ganlib.train.ema`).
        augment: ``augment(images, rng) -> images`` of the same shape, differentiable, applied to every
            image batch before the discriminator sees it (see Augmentation above; for example
            :func:`ganlib.augment.make_augment`), with ``rng`` the step's ``noise``; None: the images
            as they are (and no random draws, so a run without it is unchanged).
        health_signals: report the health signals of :mod:`ganlib.train.health` (on by default;
            ``benchmarks/experiments/health_cost.py`` measures their cost).
        jit_compile: compile the step with XLA.

    Returns:
        ``step(real, z=None, labels=None) -> dict`` of float32 scalars.
        ``real`` is ``[batch * n_critic, H, W, C]``, interleaved: the ``i``-th critic update
        takes rows ``i, i + n_critic, i + 2 n_critic, ...`` (``real.reshape([batch, n_critic,
        ...])[:, i]``), so that ``tf.distribute``, which splits axis 0 into contiguous shares,
        gives each replica its share of every critic update's batch. ``z`` (optional, to
        inject the noise instead of drawing it from ``noise``) is ``[batch, n_z, latent_dim]``:
        ``z[:, i]`` for the ``i``-th critic update and, for the alternating update,
        ``z[:, n_critic]`` for the generator update (``n_z = n_critic + 1``; ``n_z = 1`` for the
        simultaneous update). ``labels`` is int ``[batch * n_critic]``, interleaved like ``real``, or None.
        The dict holds :data:`STEP_KEYS`: ``d_loss`` (without the terms) of the last critic update,
        ``g_loss`` of the generator update, ``d_real`` = mean sigmoid(D(x)), ``d_fake`` = mean
        sigmoid(D(G(z))) (probabilities for the minimax family), ``real_score`` and ``fake_score``
        (mean raw outputs, their difference is the critic's Wasserstein estimate), all from the last
        critic update's forward pass; the health signals of :mod:`ganlib.train.health` (gradient
        norms of both updates; the discriminator's accuracy or the critic's score gap); and the value
        of each critic term under its name (:func:`step_keys` lists them all).

    Raises:
        ValueError: the two optimizers are the same object, ``n_critic < 1``,
            ``simultaneous`` with ``n_critic > 1``, ``clip_value <= 0``, ``gp_weight < 0`` or two
            terms with one name; when called: a real batch not divisible by ``n_critic``.

    References:
        Goodfellow et al. 2014, https://arxiv.org/abs/1406.2661, algorithm 1.
        Arjovsky et al. 2017, https://arxiv.org/abs/1701.07875, algorithm 1.
        Gulrajani et al. 2017, https://arxiv.org/abs/1704.00028, algorithm 1.
        Zhao et al. 2020, https://arxiv.org/abs/2006.10738, eq. (3) and (4) (``augment``).
    """
    if g_optimizer is d_optimizer:
        raise ValueError("Expected one optimizer per network. Received the same optimizer for both.")
    if not isinstance(n_critic, int) or isinstance(n_critic, bool) or n_critic < 1:
        raise ValueError(f"n_critic must be a positive integer. Received: n_critic={n_critic!r}")
    if simultaneous and n_critic != 1:
        raise ValueError(
            "The simultaneous update takes both gradients from one forward pass, so it has one critic update "
            f"per generator update: expected n_critic=1. Received: n_critic={n_critic}"
        )
    if clip_value is not None and not clip_value > 0:
        raise ValueError(f"clip_value must be positive or None. Received: clip_value={clip_value!r}")
    if gp_weight < 0:
        raise ValueError(f"gp_weight must be >= 0. Received: gp_weight={gp_weight!r}")
    terms = ((gradient_penalty_term(gp_weight),) if gp_weight > 0 else ()) + tuple(critic_terms)
    names = [t.name for t in terms]
    reserved = step_keys(discriminator_loss)
    if len(set(names)) != len(names) or set(names) & set(reserved):
        raise ValueError(f"Expected critic terms with distinct names, none of {', '.join(reserved)}. "
                         f"Received: {names}")
    if any(t.every > 1 for t in terms) and tf.distribute.get_strategy().num_replicas_in_sync > 1:
        raise ValueError(
            "Lazy regularisation (a critic term with every > 1, reg_interval > 1) runs on one replica only: its "
            "critic update, taken on some steps only, cannot synchronise replicas. Received: "
            f"{tf.distribute.get_strategy().num_replicas_in_sync} replicas, terms "
            f"{[(t.name, t.every) for t in terms if t.every > 1]}"
        )
    nets = _Networks(generator, discriminator, g_optimizer, d_optimizer, discriminator_loss, generator_loss,
                     latent_dim, terms, clip_value, tuple(after_generator_update),
                     noise if noise is not None else tf.random.Generator.from_seed(int(np.random.randint(2**31 - 1))),
                     health_signals, augment)
    update = _simultaneous_update(nets) if simultaneous else _alternating_update(nets, n_critic)

    def step(real, z=None, labels=None):
        total_rows = real.shape[0]
        if total_rows is not None and total_rows % n_critic:
            raise ValueError(
                f"Expected n_critic={n_critic} real batches of equal size interleaved along axis 0. "
                f"Received: real.shape[0]={total_rows}"
            )
        batch = (tf.shape(real)[0] // n_critic) if total_rows is None else total_rows // n_critic
        nets.clip()  # the first critic update starts from clipped weights (a no-op after the first step)
        return update(real, z, labels, batch)

    return tf.function(step, jit_compile=jit_compile)


class _Networks:
    """What both update rules share: the networks, their losses and terms, and the pieces of one update."""

    def __init__(self, generator, discriminator, g_optimizer, d_optimizer, discriminator_loss, generator_loss,
                 latent_dim, terms, clip_value, after_generator_update, rng, health_signals=True, augment=None):
        self.generator, self.discriminator = generator, discriminator
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.discriminator_loss, self.generator_loss = discriminator_loss, generator_loss
        self.latent_dim, self.terms, self.clip_value = latent_dim, terms, clip_value
        self.after_generator_update, self.rng = after_generator_update, rng
        self.health_signals, self.augment = health_signals, augment

    def G(self, z, y):
        return self.generator(z if y is None else [z, y], training=True)

    def D(self, x, y):
        # Every image batch the discriminator scores passes through the transform, the terms' inputs included.
        if self.augment is not None:
            x = self.augment(x, self.rng)
        return self.discriminator(x if y is None else [x, y], training=True)

    def latent(self, z, i, batch):
        return self.rng.normal([batch, self.latent_dim]) if z is None else z[:, i]

    def critic_objective(self, real, fake, y, real_logits, fake_logits):
        """``(d_loss, {term: value}, d_loss + sum weight * value)`` over the terms applied at every update."""
        d_loss = self.discriminator_loss(real_logits, fake_logits)
        values, total = {}, d_loss
        for term in self.terms:
            if term.every == 1:
                values[term.name] = tf.cast(
                    term.fn(lambda x: self.D(x, y), real, fake, real_logits, fake_logits, self.rng), tf.float32)
                total = total + term.weight * values[term.name]
        return d_loss, values, total

    def lazy_regularisation(self, real, fake, y):
        """The lazy terms (``every`` > 1), each its own critic update when due; ``{term: value or 0}``.

        Due when the generator's optimizer has made a multiple of ``every`` updates (one per step, and
        checkpointed, so a resumed run keeps the rhythm). The update minimises ``weight * every * value``
        alone, at the weights the step's critic update left, as StyleGAN2's separate regularisation pass.
        """
        values = {}
        for term in self.terms:
            if term.every == 1:
                continue

            def regularise(term=term):
                variables = self.discriminator.trainable_variables
                with tf.GradientTape() as tape:
                    value = tf.cast(term.fn(lambda x: self.D(x, y), real, fake, None, None, self.rng), tf.float32)
                    scaled = self.scaled(self.d_optimizer, (term.weight * term.every) * value)
                # A penalty on input gradients does not depend on every weight (not on the last layer's bias)
                pairs = [(g, v) for g, v in zip(tape.gradient(scaled, variables), variables) if g is not None]
                self.d_optimizer.apply_gradients(pairs)
                self.clip()
                return value

            due = tf.equal(self.g_optimizer.iterations % term.every, 0)
            values[term.name] = tf.cond(due, regularise, lambda: tf.constant(0.0))
        return values

    def generator_objective(self, fake_logits, real_logits_fn):
        """The generator's loss; a relativistic one also gets real scores (``real_logits_fn()``)."""
        if L.pairs_with_real(self.generator_loss):
            return self.generator_loss(fake_logits, real_logits_fn())
        return self.generator_loss(fake_logits)

    @staticmethod
    def scaled(optimizer, loss):
        # Called inside the tapes, so that the scaling is recorded and differentiated.
        return optimizer.scale_loss(loss * (1.0 / _replicas_in_sync()))

    def clip(self):
        if self.clip_value is not None:
            _clip_weights(self.discriminator.trainable_variables, self.clip_value)

    def apply_critic(self, tape, scaled_total):
        """Apply one critic update; returns its gradient norm (:func:`ganlib.train.health.gradient_norm`)."""
        variables = self.discriminator.trainable_variables
        grads = tape.gradient(scaled_total, variables)
        self.d_optimizer.apply_gradients(zip(grads, variables))
        self.clip()
        return health.gradient_norm(grads, self.d_optimizer, _replicas_in_sync()) if self.health_signals else None

    def apply_generator(self, grads):
        """Apply the generator update; returns its gradient norm."""
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_variables))
        for update in self.after_generator_update:
            update()
        return health.gradient_norm(grads, self.g_optimizer, _replicas_in_sync()) if self.health_signals else None

    def stats(self, d_loss, g_loss, values, real_logits, fake_logits, g_grad_norm, d_grad_norm):
        real_logits = tf.cast(real_logits, tf.float32)
        fake_logits = tf.cast(fake_logits, tf.float32)
        stats = {
            "d_loss": tf.cast(d_loss, tf.float32),
            "g_loss": tf.cast(g_loss, tf.float32),
            "d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
            "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)),
            "real_score": tf.reduce_mean(real_logits),
            "fake_score": tf.reduce_mean(fake_logits),
        }
        if self.health_signals:
            stats.update(g_grad_norm=g_grad_norm, d_grad_norm=d_grad_norm,
                         **health.output_signals(self.discriminator_loss, real_logits, fake_logits))
        return {**stats, **{name: tf.cast(v, tf.float32) for name, v in values.items()}}


def _simultaneous_update(n: _Networks):
    """One forward pass recorded by both tapes; both gradients at the same parameters (n_critic = 1)."""

    def update(real, z, y, batch):
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = n.G(n.latent(z, 0, batch), y)
            real_logits, fake_logits = n.D(real, y), n.D(fake, y)
            d_loss, values, total = n.critic_objective(real, fake, y, real_logits, fake_logits)
            g_loss = n.generator_objective(fake_logits, lambda: real_logits)
            scaled_total, scaled_g_loss = n.scaled(n.d_optimizer, total), n.scaled(n.g_optimizer, g_loss)
        g_grads = g_tape.gradient(scaled_g_loss, n.generator.trainable_variables)
        d_grad_norm = n.apply_critic(d_tape, scaled_total)
        values.update(n.lazy_regularisation(real, fake, y))
        g_grad_norm = n.apply_generator(g_grads)
        return n.stats(d_loss, g_loss, values, real_logits, fake_logits, g_grad_norm, d_grad_norm)

    return update


def _alternating_update(n: _Networks, n_critic: int):
    """``n_critic`` critic updates, each on its own real batch, then a generator update against the newest critic."""

    def update(real, z, labels, batch):
        for i in range(n_critic):
            real_i = real[i::n_critic]
            y = None if labels is None else labels[i::n_critic]
            fake = n.G(n.latent(z, i, batch), y)
            with tf.GradientTape() as d_tape:
                real_logits, fake_logits = n.D(real_i, y), n.D(fake, y)
                d_loss, values, total = n.critic_objective(real_i, fake, y, real_logits, fake_logits)
                scaled_total = n.scaled(n.d_optimizer, total)
            d_grad_norm = n.apply_critic(d_tape, scaled_total)
        values.update(n.lazy_regularisation(real_i, fake, y))  # on the last critic update's batch

        with tf.GradientTape() as g_tape:  # a fresh forward pass through the newest critic
            # (a relativistic loss also scores the last real batch with it)
            g_loss = n.generator_objective(n.D(n.G(n.latent(z, n_critic, batch), y), y), lambda: n.D(real_i, y))
            scaled_g_loss = n.scaled(n.g_optimizer, g_loss)
        g_grad_norm = n.apply_generator(g_tape.gradient(scaled_g_loss, n.generator.trainable_variables))
        return n.stats(d_loss, g_loss, values, real_logits, fake_logits, g_grad_norm, d_grad_norm)

    return update


def xla_supported(strategy: tf.distribute.Strategy) -> bool:
    """Whether a step compiled with ``jit_compile=True`` can run under ``strategy``.

    Not on several replicas: a compiled step called through ``MirroredStrategy.run``
    reads one replica's variables from another replica's device and fails (TF 2.21,
    two logical CPUs; Keras's own ``fit`` also turns XLA off under tf.distribute). A ``TPUStrategy`` compiles everything it runs with XLA anyway.
    """
    return strategy.num_replicas_in_sync == 1 and not isinstance(strategy, tf.distribute.TPUStrategy)


def _replicas_in_sync() -> int:
    context = tf.distribute.get_replica_context()
    return context.num_replicas_in_sync if context is not None else 1


def _clip_weights(variables, clip_value: float) -> None:
    if not tf.distribute.has_strategy():
        L.clip_weights(variables, clip_value)
        return
    assign_each(variables, [lambda var: tf.clip_by_value(var, -clip_value, clip_value)] * len(variables))


def assign_each(variables, new_values: list[Callable[[tf.Variable], tf.Tensor]]) -> None:
    """``variables[i].assign(new_values[i](variables[i]))`` for each ``i``, inside a train step, under any strategy.

    A mirrored variable cannot be assigned in a replica context, so under a strategy the
    assignment goes through ``merge_call`` and ``strategy.extended.update``, as Keras's
    optimizer applies its updates. The replicas hold equal values of the variables read by
    ``new_values`` (weights, not per-replica statistics), so the result is the same on each.

    Args:
        variables: ``keras.Variable`` or ``tf.Variable`` objects.
        new_values: one function per variable, mapping its current value to its new value.
    """
    if not tf.distribute.has_strategy() or tf.distribute.in_cross_replica_context():
        for v, f in zip(variables, new_values):
            v.assign(f(v))
        return

    def update(strategy):
        for v, f in zip(variables, new_values):
            # The tf.Variable (mirrored) under a keras.Variable.
            strategy.extended.update(v.value if isinstance(v, keras.Variable) else v, lambda var, f=f: var.assign(f(var)),
                                     group=False)

    tf.distribute.get_replica_context().merge_call(update)


def make_train_function(
    step: Callable[..., dict[str, tf.Tensor]],
    *,
    strategy: tf.distribute.Strategy | None = None,
    steps_per_execution: int = 1,
) -> Callable[[Iterator], dict[str, tf.Tensor]]:
    """Wrap a train step into one ``tf.function`` that runs ``steps_per_execution`` steps on the replicas of a strategy.

    Each call takes ``steps_per_execution`` (K) elements from ``iterator`` inside
    the function (a ``tf.while_loop`` when K > 1) and runs ``strategy.run(step,
    ...)`` on each, so Python is entered once per K steps; with XLA the step
    itself stays compiled (``IteratorGetNext`` cannot be, so the loop is not).
    Under a strategy the iterator must come from
    ``strategy.experimental_distribute_dataset``; each replica then gets its
    slice of the global batch. The statistics of the replicas are averaged
    (each is a mean over an equal share of the batch, so this is the global mean).

    Example:
        >>> from ganlib.data import make_pipeline
        >>> from ganlib.train.state import build_gan
        >>> from ganlib.config import get_config
        >>> gan = build_gan(get_config("dcgan", latent_dim=8, g_filters=8, d_filters=8))
        >>> run = make_train_function(gan.train_step(), steps_per_execution=2)
        >>> images = np.zeros([128, 28, 28, 1], np.float32)
        >>> run(iter(make_pipeline(images, 64, seed=0)))["d_loss"].shape
        TensorShape([2])

    Args:
        step: a step of :func:`make_train_step`, its models and optimizers created
            (and the optimizers built, ``optimizer.build(variables)``) under
            ``strategy.scope()``; compiled with XLA only where :func:`xla_supported`.
        strategy: the ``tf.distribute.Strategy``; None uses the current one (the
            default, single-device strategy outside any scope).
        steps_per_execution: K >= 1, train steps per call.

    Returns:
        ``run(iterator) -> dict`` of float32 ``[K]`` tensors, one value per step,
        with the keys of the step's dict. The iterator yields the step's ``real``
        ``[n_critic * global_batch, H, W, C]``, or ``(real, z)`` pairs with ``z`` as in
        :func:`make_train_step`, or dicts of the step's keyword arguments (``{"real": ...,
        "labels": ...}``); it must hold at least K more elements.

    Raises:
        ValueError: ``steps_per_execution`` is not a positive integer.
    """
    if not isinstance(steps_per_execution, int) or isinstance(steps_per_execution, bool) or steps_per_execution < 1:
        raise ValueError(
            f"steps_per_execution must be a positive integer. Received: steps_per_execution={steps_per_execution!r}"
        )
    strategy = strategy if strategy is not None else tf.distribute.get_strategy()
    mean = tf.distribute.ReduceOp.MEAN

    def one_step(batch):
        if isinstance(batch, dict):
            per_replica = strategy.run(step, kwargs=batch)
        else:
            per_replica = strategy.run(step, args=tuple(batch) if isinstance(batch, (tuple, list)) else (batch,))
        return {k: strategy.reduce(mean, v, axis=None) for k, v in per_replica.items()}

    def run(iterator):
        if steps_per_execution == 1:
            return {k: v[None] for k, v in one_step(next(iterator)).items()}
        first = one_step(next(iterator))  # its keys: step_keys(...) of the step
        arrays = {k: tf.TensorArray(tf.float32, size=steps_per_execution).write(0, v) for k, v in first.items()}
        for i in tf.range(1, steps_per_execution):
            stats = one_step(next(iterator))
            arrays = {k: a.write(i, stats[k]) for k, a in arrays.items()}
        return {k: a.stack() for k, a in arrays.items()}

    return tf.function(run)


__all__ = ["STEP_KEYS", "assign_each", "make_train_function", "make_train_step", "step_keys", "xla_supported"]
