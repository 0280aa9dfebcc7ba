"""The bake-off: entrants and their contracts, measured outcomes and their verification,
final scores, award contracts and adoption check-ins."""
