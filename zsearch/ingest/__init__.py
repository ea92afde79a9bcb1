"""Ingest: batches of Papers -> identity folding -> change detection -> encoding -> the store."""
