"""Payers: how a facility is reimbursed, as data the coding module prices with."""
