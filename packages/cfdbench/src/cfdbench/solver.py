"""Incompressible Navier–Stokes on a 2D MAC (staggered) grid with Chorin's projection method, in PyTorch.

The solver covers the four CFDBench geometries with one code path: a rectangle whose four sides are each a
no-slip wall (optionally moving, e.g. the cavity lid), a velocity inlet, a zero-gradient outlet (p = 0) or
periodic, plus an optional staircase obstacle given as a cell mask (cylinder, dam step).

Discretisation (Harlow & Welch 1965; Griebel, Dornseifer & Neunhoeffer 1998):

* ``u`` lives on vertical faces ``[ny, nx + 1]``, ``v`` on horizontal faces ``[ny + 1, nx]``, ``p`` at cell centres
  ``[ny, nx]``; row index = y (row 0 at the bottom), column index = x.
* explicit Euler in time for convection (central differences blended with donor-cell by ``upwind``) and diffusion;
  ``dt`` is sub-stepped from ``cfl * h / |u|max`` and ``diffusion_number * h^2 / nu``.
* the pressure Poisson equation is solved exactly: dense DCT-II matrices for a closed box, FFT for a periodic box,
  and a pre-factorised sparse LU (``scipy.sparse.linalg.splu``) for everything else, so the projected velocity is
  discretely divergence-free to round-off.

Example::

    from cfdbench.solver import cavity_config, ProjectionSolver

    solver = ProjectionSolver(cavity_config(n=64, re=100.0))
    solver.run_to_steady(tol=1e-6, max_time=30.0)
    u, v = solver.cell_velocity()  # [ny, nx] each
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from lc_core.logging import get_logger

__all__ = [
    "Side",
    "FlowConfig",
    "ProjectionSolver",
    "DivergenceBlowUp",
    "cavity_config",
    "channel_config",
    "cylinder_config",
    "step_config",
    "taylor_green_config",
]

logger = get_logger(__name__)

_SIDES = ("left", "right", "bottom", "top")


class DivergenceBlowUp(RuntimeError):
    """The velocity field became non-finite or its divergence exceeded the allowed bound."""


@dataclass(kw_only=True)
class Side:
    """Boundary condition of one side of the box.

    Attributes:
        kind: ``"wall"`` (no-slip, tangential velocity ``value``), ``"inlet"`` (normal velocity ``value`` or a profile
            callable of the wall coordinate, zero tangential velocity), ``"outlet"`` (zero-gradient velocity, p = 0)
            or ``"periodic"`` (must be set on both opposite sides).
        value: the wall's tangential speed or the inlet's normal speed (into the domain).
        profile: optional inlet profile ``f(s) -> speed`` over the side's coordinate ``s`` (metres); overrides ``value``.
    """

    kind: str = "wall"
    value: float = 0.0
    profile: Callable[[np.ndarray], np.ndarray] | None = None


@dataclass(kw_only=True)
class FlowConfig:
    """A 2D incompressible flow problem.

    Attributes:
        nx: cells along x.
        ny: cells along y.
        lx: domain length along x (m).
        ly: domain length along y (m).
        nu: kinematic viscosity (m^2/s) = mu / rho.
        sides: boundary condition per side (``left``, ``right``, ``bottom``, ``top``).
        solid: optional ``[ny, nx]`` bool array, True for obstacle cells (staircase geometry).
        x0: x coordinate of the left side (m), e.g. negative for a cylinder centred at the origin.
        y0: y coordinate of the bottom side (m).
        cfl: advective Courant number for sub-stepping.
        diffusion_number: ``nu * dt / h^2`` bound (explicit diffusion is stable below 0.25).
        upwind: donor-cell blend in [0, 1]; ``None`` uses ``min(1, 1.2 * CFL)`` per step (Griebel's rule).
        dtype: float dtype (float64 keeps the projection exact to ~1e-13).
        device: torch device string.
        max_divergence: blow-up bound on ``max|div u| * h / U`` after projection.
    """

    nx: int
    ny: int
    lx: float
    ly: float
    nu: float
    sides: dict[str, Side] = field(default_factory=lambda: {s: Side() for s in _SIDES})
    solid: np.ndarray | None = None
    x0: float = 0.0
    y0: float = 0.0
    cfl: float = 0.5
    diffusion_number: float = 0.2
    upwind: float | None = 0.0
    dtype: torch.dtype = torch.float64
    device: str = "cpu"
    max_divergence: float = 1e-6


def cavity_config(
    *, n: int = 128, re: float = 100.0, lid: float = 1.0, length: float = 1.0, width: float | None = None, **kw
) -> FlowConfig:
    """Lid-driven cavity: top wall moves +x at ``lid``; ``nu = lid * length / re``.

    Args:
        n: cells along the longer side.
        re: Reynolds number ``lid * length / nu``.
        lid: lid speed (m/s).
        length: cavity length along x (m).
        width: cavity height along y (m); defaults to ``length``.
    """
    width = length if width is None else width
    nx, ny = _cells(n, length, width)
    sides = {"left": Side(), "right": Side(), "bottom": Side(), "top": Side(kind="wall", value=lid)}
    return FlowConfig(nx=nx, ny=ny, lx=length, ly=width, nu=lid * length / re, sides=sides, **kw)


def channel_config(*, nx: int, ny: int, length: float, height: float, nu: float, u_in: float, **kw) -> FlowConfig:
    """Plane channel with a plug inlet on the left, outlet on the right and no-slip top/bottom walls."""
    sides = {"left": Side(kind="inlet", value=u_in), "right": Side(kind="outlet"), "bottom": Side(), "top": Side()}
    return FlowConfig(nx=nx, ny=ny, lx=length, ly=height, nu=nu, sides=sides, **kw)


def cylinder_config(
    *, h: float, x_min: float, x_max: float, y_min: float, y_max: float, radius: float, nu: float, u_in: float, **kw
) -> FlowConfig:
    """Confined cylinder (centre at the origin) in a channel ``[x_min, x_max] x [y_min, y_max]`` with grid spacing ``h``."""
    nx = max(4, round((x_max - x_min) / h))
    ny = max(4, round((y_max - y_min) / h))
    xc = x_min + (np.arange(nx) + 0.5) * (x_max - x_min) / nx
    yc = y_min + (np.arange(ny) + 0.5) * (y_max - y_min) / ny
    solid = (xc[None, :] ** 2 + yc[:, None] ** 2) <= radius**2
    sides = {"left": Side(kind="inlet", value=u_in), "right": Side(kind="outlet"), "bottom": Side(), "top": Side()}
    return FlowConfig(
        nx=nx, ny=ny, lx=x_max - x_min, ly=y_max - y_min, x0=x_min, y0=y_min, nu=nu, sides=sides, solid=solid, **kw
    )


def step_config(
    *,
    h: float,
    length: float,
    height: float,
    inlet_height: float,
    barrier_x: float,
    barrier_width: float,
    barrier_height: float,
    nu: float,
    u_in: float,
    **kw,
) -> FlowConfig:
    """Single-phase stand-in for the dam problem: channel flow over a rectangular step ``[bx, bx+w] x [0, h_b]``.

    The inlet covers the lower ``inlet_height`` of the left side (the rest of the left side is a wall), the right side
    is an outlet, bottom and top are walls. Gravity and the free surface of the original VOF run are absent.
    """
    nx = max(4, round(length / h))
    ny = max(4, round(height / h))
    xc = (np.arange(nx) + 0.5) * length / nx
    yc = (np.arange(ny) + 0.5) * height / ny
    solid = (xc[None, :] >= barrier_x) & (xc[None, :] <= barrier_x + barrier_width) & (yc[:, None] <= barrier_height)
    inlet = Side(kind="inlet", value=u_in, profile=lambda s: np.where(s <= inlet_height, u_in, 0.0))
    sides = {"left": inlet, "right": Side(kind="outlet"), "bottom": Side(), "top": Side()}
    return FlowConfig(nx=nx, ny=ny, lx=length, ly=height, nu=nu, sides=sides, solid=solid, **kw)


def taylor_green_config(*, n: int = 32, nu: float = 0.1, **kw) -> FlowConfig:
    """Doubly periodic box ``[0, 2 pi]^2`` for the Taylor–Green vortex."""
    sides = {s: Side(kind="periodic") for s in _SIDES}
    return FlowConfig(nx=n, ny=n, lx=2 * math.pi, ly=2 * math.pi, nu=nu, sides=sides, **kw)


def _cells(n: int, lx: float, ly: float) -> tuple[int, int]:
    if lx >= ly:
        return n, max(4, round(n * ly / lx))
    return max(4, round(n * lx / ly)), n


def _dct_matrix(n: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    # orthonormal DCT-II: its rows are the eigenvectors of the 1D Neumann Laplacian on cell centres
    k = torch.arange(n, dtype=dtype, device=device)[:, None]
    i = torch.arange(n, dtype=dtype, device=device)[None, :]
    c = torch.cos(math.pi * k * (2 * i + 1) / (2 * n)) * math.sqrt(2.0 / n)
    c[0] /= math.sqrt(2.0)
    return c


class ProjectionSolver:
    """Explicit projection-method solver on a MAC grid (see the module docstring).

    Attributes:
        u: x-velocity on vertical faces, ``[ny, nx + 1]``.
        v: y-velocity on horizontal faces, ``[ny + 1, nx]``.
        p: pressure / rho (kinematic) at cell centres, ``[ny, nx]``.
        t: simulated time (s).
        steps: number of time steps taken.
    """

    def __init__(self, cfg: FlowConfig):
        self.cfg = cfg
        for s in _SIDES:
            if s not in cfg.sides:
                raise ValueError(f"FlowConfig.sides is missing side {s!r}")
        self.px = cfg.sides["left"].kind == "periodic"
        self.py = cfg.sides["bottom"].kind == "periodic"
        if self.px != (cfg.sides["right"].kind == "periodic") or self.py != (cfg.sides["top"].kind == "periodic"):
            raise ValueError("periodic boundaries must be set on both opposite sides")
        self.dx = cfg.lx / cfg.nx
        self.dy = cfg.ly / cfg.ny
        kw = {"dtype": cfg.dtype, "device": cfg.device}
        nx, ny = cfg.nx, cfg.ny
        self.u = torch.zeros(ny, nx + 1, **kw)
        self.v = torch.zeros(ny + 1, nx, **kw)
        self.p = torch.zeros(ny, nx, **kw)
        self.t = 0.0
        self.steps = 0
        solid = np.zeros((ny, nx), bool) if cfg.solid is None else np.asarray(cfg.solid, bool)
        if solid.shape != (ny, nx):
            raise ValueError(f"solid mask has shape {solid.shape}, expected {(ny, nx)}")
        self.solid = solid
        self._build_face_masks()
        self._build_inlets()
        self._build_poisson()
        self._apply_bc()
        self.u_scale = max([abs(s.value) for s in cfg.sides.values()] + [1e-12])
        self._u0 = 1e-12

    def set_velocity(self, u: torch.Tensor, v: torch.Tensor) -> None:
        """Set the initial face velocities (``u`` ``[ny, nx + 1]``, ``v`` ``[ny + 1, nx]``) and project them."""
        self.u = torch.as_tensor(u, dtype=self.cfg.dtype, device=self.cfg.device).clone()
        self.v = torch.as_tensor(v, dtype=self.cfg.dtype, device=self.cfg.device).clone()
        self._u0 = max(float(self.u.abs().max()), float(self.v.abs().max()), 1e-12)
        self._apply_bc()
        self._project(1.0)

    def _build_face_masks(self) -> None:
        cfg = self.cfg
        ny, nx = cfg.ny, cfg.nx
        s = self.solid
        # a face is fixed (zero velocity) when it touches an obstacle cell
        fu = np.zeros((ny, nx + 1), bool)
        fu[:, 1:] |= s
        fu[:, :-1] |= s
        fv = np.zeros((ny + 1, nx), bool)
        fv[1:, :] |= s
        fv[:-1, :] |= s
        self.u_fixed = torch.as_tensor(fu, device=cfg.device)
        self.v_fixed = torch.as_tensor(fv, device=cfg.device)
        self.fluid = torch.as_tensor(~s, device=cfg.device)

    def _build_inlets(self) -> None:
        cfg = self.cfg
        kw = {"dtype": cfg.dtype, "device": cfg.device}
        yc = (np.arange(cfg.ny) + 0.5) * self.dy
        xc = (np.arange(cfg.nx) + 0.5) * self.dx
        self.inlet: dict[str, torch.Tensor] = {}
        for name, coord in (("left", yc), ("right", yc), ("bottom", xc), ("top", xc)):
            side = cfg.sides[name]
            if side.kind == "inlet":
                prof = side.profile(coord) if side.profile is not None else np.full_like(coord, side.value)
                self.inlet[name] = torch.as_tensor(np.asarray(prof, float), **kw)

    def _build_poisson(self) -> None:
        cfg = self.cfg
        kinds = {k: s.kind for k, s in cfg.sides.items()}
        closed = all(k in ("wall", "inlet") for k in kinds.values())
        self.mode = "splu"
        if self.px and self.py and not self.solid.any():
            self.mode = "fft"
            kx = torch.fft.fftfreq(cfg.nx, dtype=cfg.dtype, device=cfg.device) * cfg.nx
            ky = torch.fft.fftfreq(cfg.ny, dtype=cfg.dtype, device=cfg.device) * cfg.ny
            lam_x = -4 * torch.sin(math.pi * kx / cfg.nx) ** 2 / self.dx**2
            lam_y = -4 * torch.sin(math.pi * ky / cfg.ny) ** 2 / self.dy**2
            lam = lam_y[:, None] + lam_x[None, :]
            lam[0, 0] = 1.0
            self.lam = lam
        elif closed and not self.solid.any() and not self.px and not self.py:
            self.mode = "dct"
            self.cx = _dct_matrix(cfg.nx, cfg.dtype, cfg.device)
            self.cy = _dct_matrix(cfg.ny, cfg.dtype, cfg.device)
            kx = torch.arange(cfg.nx, dtype=cfg.dtype, device=cfg.device)
            ky = torch.arange(cfg.ny, dtype=cfg.dtype, device=cfg.device)
            lam_x = -4 * torch.sin(math.pi * kx / (2 * cfg.nx)) ** 2 / self.dx**2
            lam_y = -4 * torch.sin(math.pi * ky / (2 * cfg.ny)) ** 2 / self.dy**2
            lam = lam_y[:, None] + lam_x[None, :]
            lam[0, 0] = 1.0
            self.lam = lam
        else:
            self._build_splu(kinds)

    def _build_splu(self, kinds: dict[str, str]) -> None:
        import scipy.sparse as sp
        from scipy.sparse.linalg import splu

        cfg = self.cfg
        ny, nx = cfg.ny, cfg.nx
        fluid = ~self.solid
        idx = -np.ones((ny, nx), np.int64)
        idx[fluid] = np.arange(int(fluid.sum()))
        n = int(fluid.sum())
        rows, cols, vals = [], [], []
        diag = np.zeros(n)
        jj, ii = np.nonzero(fluid)
        me = idx[jj, ii]
        dirichlet = False
        for dj, di, h, side in (
            (0, -1, self.dx, "left"),
            (0, 1, self.dx, "right"),
            (-1, 0, self.dy, "bottom"),
            (1, 0, self.dy, "top"),
        ):
            j2, i2 = jj + dj, ii + di
            periodic = kinds[side] == "periodic"
            if periodic:
                j2, i2 = j2 % ny, i2 % nx
            inside = (j2 >= 0) & (j2 < ny) & (i2 >= 0) & (i2 < nx)
            j2c, i2c = np.clip(j2, 0, ny - 1), np.clip(i2, 0, nx - 1)
            nb_fluid = inside & fluid[j2c, i2c]
            # neighbouring fluid cell: standard 5-point coupling
            rows.append(me[nb_fluid])
            cols.append(idx[j2c, i2c][nb_fluid])
            vals.append(np.full(int(nb_fluid.sum()), 1.0 / h**2))
            diag[nb_fluid] -= 1.0 / h**2
            # outlet: p = 0 on the boundary face, ghost = -p
            if kinds[side] == "outlet":
                out = ~inside
                diag[out] -= 2.0 / h**2
                dirichlet = dirichlet or bool(out.any())
        rows.append(np.arange(n))
        cols.append(np.arange(n))
        vals.append(diag)
        a = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
        self.pin = None
        if not dirichlet:
            # pure Neumann: pin the first fluid cell to fix the constant
            a = a.tolil()
            a[0, :] = 0.0
            a[0, 0] = 1.0
            a = a.tocsc()
            self.pin = 0
        self.lu = splu(a)
        self.fluid_idx = torch.as_tensor(np.flatnonzero(fluid.ravel()), device=cfg.device)

    def _apply_bc(self) -> None:
        """Set the boundary faces (normal velocities) and obstacle faces."""
        cfg = self.cfg
        u, v = self.u, self.v
        sides = cfg.sides
        if self.px:
            u[:, -1] = u[:, 0]
        else:
            for name, col, inner in (("left", 0, 1), ("right", -1, -2)):
                kind = sides[name].kind
                if kind == "wall":
                    u[:, col] = 0.0
                elif kind == "inlet":
                    u[:, col] = self.inlet[name] * (1 if name == "left" else -1)
                elif kind == "outlet":
                    u[:, col] = u[:, inner]
        if self.py:
            v[-1, :] = v[0, :]
        else:
            for name, row, inner in (("bottom", 0, 1), ("top", -1, -2)):
                kind = sides[name].kind
                if kind == "wall":
                    v[row, :] = 0.0
                elif kind == "inlet":
                    v[row, :] = self.inlet[name] * (1 if name == "bottom" else -1)
                elif kind == "outlet":
                    v[row, :] = v[inner, :]
        if self.solid.any():
            u.masked_fill_(self.u_fixed, 0.0)
            v.masked_fill_(self.v_fixed, 0.0)
        if not self.px and sides["right"].kind == "outlet":
            self._balance_outflow()

    def _balance_outflow(self) -> None:
        # scale the outlet flux so the total mass balance is exact (keeps the Poisson problem well posed)
        u = self.u
        inflow = u[:, 0].sum() * self.dy
        if self.cfg.sides["top"].kind == "inlet":
            inflow = inflow - self.v[-1, :].sum() * self.dx
        if self.cfg.sides["bottom"].kind == "inlet":
            inflow = inflow + self.v[0, :].sum() * self.dx
        out = u[:, -1].sum() * self.dy
        # an additive correction (not a rescaling) stays bounded when the outlet flux is near zero
        u[:, -1] += (inflow - out) / self.cfg.ly

    def _pad_u(self) -> torch.Tensor:
        """``u`` with one ghost layer: ``[ny + 2, nx + 3]``."""
        u = self.u
        sides = self.cfg.sides
        if self.px:
            left, right = u[:, -2:-1], u[:, 1:2]
        else:
            left, right = u[:, :1], u[:, -1:]
        uu = torch.cat([left, u, right], dim=1)
        if self.py:
            bot, top = uu[-1:], uu[:1]
        else:
            bot = self._ghost_tangential(uu[:1], sides["bottom"])
            top = self._ghost_tangential(uu[-1:], sides["top"])
        return torch.cat([bot, uu, top], dim=0)

    def _pad_v(self) -> torch.Tensor:
        """``v`` with one ghost layer: ``[ny + 3, nx + 2]``."""
        v = self.v
        sides = self.cfg.sides
        if self.py:
            bot, top = v[-2:-1], v[1:2]
        else:
            bot, top = v[:1], v[-1:]
        vv = torch.cat([bot, v, top], dim=0)
        if self.px:
            left, right = vv[:, -1:], vv[:, :1]
        else:
            left = self._ghost_tangential(vv[:, :1], sides["left"])
            right = self._ghost_tangential(vv[:, -1:], sides["right"])
        return torch.cat([left, vv, right], dim=1)

    @staticmethod
    def _ghost_tangential(inner: torch.Tensor, side: Side) -> torch.Tensor:
        if side.kind == "wall":
            # the wall sits half a cell away: the average of ghost and interior equals the wall speed
            return 2.0 * side.value - inner
        if side.kind == "inlet":
            return -inner
        return inner

    def stable_dt(self) -> float:
        """Largest stable explicit time step for the current field."""
        cfg = self.cfg
        h = min(self.dx, self.dy)
        umax = max(float(self.u.abs().max()), float(self.v.abs().max()), self.u_scale, 1e-12)
        dt_adv = cfg.cfl * h / umax
        dt_diff = cfg.diffusion_number * h * h / cfg.nu if cfg.nu > 0 else math.inf
        return min(dt_adv, dt_diff)

    def _tentative(self, dt: float) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.cfg
        dx, dy, nu = self.dx, self.dy, cfg.nu
        up = self._pad_u()  # [ny+2, nx+3]; interior face (j, i) at up[j+1, i+1]
        vp = self._pad_v()  # [ny+3, nx+2]; interior face (j, i) at vp[j+1, i+1]
        if cfg.upwind is None:
            umax = max(float(self.u.abs().max()), float(self.v.abs().max()), 1e-12)
            gamma = min(1.0, 1.2 * umax * dt / min(dx, dy))
        else:
            gamma = cfg.upwind

        # u-momentum on all u faces [ny, nx+1]
        uc = up[1:-1, 1:-1]
        ue, uw = up[1:-1, 2:], up[1:-1, :-2]
        un, us = up[2:, 1:-1], up[:-2, 1:-1]
        # cell-centred u at the right/left of each face
        ua_r, ua_l = 0.5 * (uc + ue), 0.5 * (uw + uc)
        duu = (ua_r * ua_r - ua_l * ua_l + gamma * (ua_r.abs() * 0.5 * (uc - ue) - ua_l.abs() * 0.5 * (uw - uc))) / dx
        # v interpolated to the corners above/below each u face: average of v at columns i-1 and i
        vpx = vp[:, :]  # [ny+3, nx+2]
        v_top = 0.5 * (vpx[2:-1, :-1] + vpx[2:-1, 1:])  # [ny, nx+1]
        v_bot = 0.5 * (vpx[1:-2, :-1] + vpx[1:-2, 1:])
        duv = (
            v_top * 0.5 * (uc + un)
            - v_bot * 0.5 * (us + uc)
            + gamma * (v_top.abs() * 0.5 * (uc - un) - v_bot.abs() * 0.5 * (us - uc))
        ) / dy
        lap_u = (ue - 2 * uc + uw) / dx**2 + (un - 2 * uc + us) / dy**2
        fu = self.u + dt * (nu * lap_u - duu - duv)

        # v-momentum on all v faces [ny+1, nx]
        vc = vp[1:-1, 1:-1]
        ve, vw = vp[1:-1, 2:], vp[1:-1, :-2]
        vn, vs = vp[2:, 1:-1], vp[:-2, 1:-1]
        va_t, va_b = 0.5 * (vc + vn), 0.5 * (vs + vc)
        dvv = (va_t * va_t - va_b * va_b + gamma * (va_t.abs() * 0.5 * (vc - vn) - va_b.abs() * 0.5 * (vs - vc))) / dy
        # u interpolated to the corners right/left of each v face: average of u at rows j-1 and j
        u_right = 0.5 * (up[:-1, 2:-1] + up[1:, 2:-1])  # [ny+1, nx]
        u_left = 0.5 * (up[:-1, 1:-2] + up[1:, 1:-2])
        duv2 = (
            u_right * 0.5 * (vc + ve)
            - u_left * 0.5 * (vw + vc)
            + gamma * (u_right.abs() * 0.5 * (vc - ve) - u_left.abs() * 0.5 * (vw - vc))
        ) / dx
        lap_v = (ve - 2 * vc + vw) / dx**2 + (vn - 2 * vc + vs) / dy**2
        fv = self.v + dt * (nu * lap_v - dvv - duv2)
        return fu, fv

    def divergence(self) -> torch.Tensor:
        """Discrete divergence at cell centres, ``[ny, nx]`` (zero inside obstacles)."""
        d = (self.u[:, 1:] - self.u[:, :-1]) / self.dx + (self.v[1:, :] - self.v[:-1, :]) / self.dy
        return d * self.fluid

    def _solve_poisson(self, rhs: torch.Tensor) -> torch.Tensor:
        if self.mode == "fft":
            r = torch.fft.fft2(rhs)
            r = r / self.lam
            r[0, 0] = 0.0
            return torch.fft.ifft2(r).real
        if self.mode == "dct":
            r = self.cy @ rhs @ self.cx.T
            r = r / self.lam
            r[0, 0] = 0.0
            return self.cy.T @ r @ self.cx
        b = rhs.reshape(-1)[self.fluid_idx].detach().cpu().numpy().astype(np.float64)
        if self.pin is not None:
            b[self.pin] = 0.0
        x = self.lu.solve(b)
        out = torch.zeros(rhs.numel(), dtype=rhs.dtype, device=rhs.device)
        out[self.fluid_idx] = torch.as_tensor(x, dtype=rhs.dtype, device=rhs.device)
        return out.reshape(rhs.shape)

    def _project(self, dt: float) -> None:
        cfg = self.cfg
        phi = self._solve_poisson(self.divergence() / dt)
        self.p = phi
        sides = cfg.sides
        # pressure gradient on interior faces (and periodic / outlet boundary faces)
        gx = torch.zeros_like(self.u)
        gx[:, 1:-1] = (phi[:, 1:] - phi[:, :-1]) / self.dx
        if self.px:
            g0 = (phi[:, 0] - phi[:, -1]) / self.dx
            gx[:, 0] = g0
            gx[:, -1] = g0
        else:
            if sides["right"].kind == "outlet":
                gx[:, -1] = -2.0 * phi[:, -1] / self.dx
            if sides["left"].kind == "outlet":
                gx[:, 0] = 2.0 * phi[:, 0] / self.dx
        gy = torch.zeros_like(self.v)
        gy[1:-1, :] = (phi[1:, :] - phi[:-1, :]) / self.dy
        if self.py:
            g0 = (phi[0, :] - phi[-1, :]) / self.dy
            gy[0, :] = g0
            gy[-1, :] = g0
        else:
            if sides["top"].kind == "outlet":
                gy[-1, :] = -2.0 * phi[-1, :] / self.dy
            if sides["bottom"].kind == "outlet":
                gy[0, :] = 2.0 * phi[0, :] / self.dy
        if self.solid.any():
            gx.masked_fill_(self.u_fixed, 0.0)
            gy.masked_fill_(self.v_fixed, 0.0)
        self.u = self.u - dt * gx
        self.v = self.v - dt * gy

    def step(self, dt: float) -> None:
        """Advance one explicit step of size ``dt``: tentative velocity, boundary conditions, projection."""
        fu, fv = self._tentative(dt)
        self.u, self.v = fu, fv
        self._apply_bc()
        self._project(dt)
        self.t += dt
        self.steps += 1

    def check(self) -> float:
        """Return ``max|div u| * h / U`` and raise :class:`DivergenceBlowUp` on NaN or a too-large divergence."""
        if not (torch.isfinite(self.u).all() and torch.isfinite(self.v).all()):
            raise DivergenceBlowUp(f"non-finite velocity at t={self.t:.4g} after {self.steps} steps")
        h = min(self.dx, self.dy)
        umax = max(float(self.u.abs().max()), float(self.v.abs().max()))
        div = float(self.divergence().abs().max()) * h / max(self.u_scale, umax)
        if div > self.cfg.max_divergence or umax > 1e3 * max(self.u_scale, self._u0):
            raise DivergenceBlowUp(f"blow-up at t={self.t:.4g}: relative divergence {div:.2e}, |u|max {umax:.3g}")
        return div

    def advance(self, duration: float, *, check_every: int = 50) -> int:
        """Advance by exactly ``duration`` seconds with CFL-controlled sub-steps; returns the sub-step count."""
        t_end = self.t + duration
        n = 0
        while self.t < t_end - 1e-12 * max(1.0, abs(t_end)):
            dt = min(self.stable_dt(), t_end - self.t)
            self.step(dt)
            n += 1
            if n % check_every == 0:
                self.check()
        self.check()
        return n

    def run_to_steady(self, *, tol: float = 1e-6, max_time: float = 100.0, check_every: int = 100) -> float:
        """Step until ``max|u^{n+1} - u^n| / (dt * U / L) < tol`` or ``max_time``; returns the final change rate."""
        cfg = self.cfg
        scale = self.u_scale**2 / max(cfg.lx, cfg.ly)
        rate = math.inf
        while self.t < max_time:
            dt = self.stable_dt()
            u0, v0 = self.u, self.v
            self.step(dt)
            if self.steps % check_every == 0:
                self.check()
                du = max(float((self.u - u0).abs().max()), float((self.v - v0).abs().max()))
                rate = du / dt / scale
                if rate < tol:
                    break
        return rate

    def cell_velocity(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Velocities averaged to cell centres: ``u, v`` each ``[ny, nx]``, zero inside obstacles."""
        uc = 0.5 * (self.u[:, 1:] + self.u[:, :-1])
        vc = 0.5 * (self.v[1:, :] + self.v[:-1, :])
        return uc * self.fluid, vc * self.fluid

    def kinetic_energy(self) -> float:
        """``0.5 * sum(u^2 + v^2) * dx * dy`` over faces (periodic boxes count each face once)."""
        u = self.u[:, :-1] if self.px else self.u
        v = self.v[:-1, :] if self.py else self.v
        return 0.5 * float((u * u).sum() + (v * v).sum()) * self.dx * self.dy
