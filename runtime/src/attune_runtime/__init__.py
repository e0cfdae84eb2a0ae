"""What every Attune service shares: delivery rules, health, logging, time, ids."""
