"""The policy domains, one package each: entitlement (Section 1 hours, Tables 2-6 and 10,
billing), sla (Sections 7-8), expansion (Section 9), inputs (records that cannot be used) and
waivers. Each package is a default plugin that owns its record kinds, its policy module,
its running state, its rules, its lint checks and what ``explain`` and ``entitlements``
show for it."""
